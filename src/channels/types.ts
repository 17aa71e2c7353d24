import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import type { Activity, ChannelId } from '../engine/activity.js';
import type { ChannelSender } from '../engine/outbox.js';
import type { Translator } from '../i18n/index.js';

/** What every channel gets from the application. */
export interface ChannelContext {
  /**
   * Hands a parsed message to the engine: it is durable once this resolves (acknowledge the platform
   * only then); 'duplicate' means it was already accepted.
   */
  receive(activity: Activity): Promise<'accepted' | 'duplicate'>;
  db: Db;
  log: Logger;
  i18n: Translator;
}

/**
 * A platform adapter (in) and renderer (out), kept apart as in Rasa's InputChannel/OutputChannel:
 * `routes` and `start` turn the platform's updates into Activities; `sender` renders replies.
 */
export interface Channel {
  id: ChannelId;
  sender: ChannelSender;
  /** Mounts the channel's webhook routes (raw body parsing, signature checks) on the HTTP app. */
  routes?(app: FastifyInstance): Promise<void>;
  /** Starts what runs beside HTTP (long polling, a WhatsApp Web client). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Builds a channel once the application's context exists. */
export type ChannelFactory = (ctx: ChannelContext) => Channel;
