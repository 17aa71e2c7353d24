import { Types } from 'mongoose';
import { addTranscript, createCase, isCaseError, rate } from '../cases/index.js';
import type { Db } from '../db/connection.js';
import { eraseCitizenData } from '../privacy/erase.js';
import { officeOpen } from './office-hours.js';
import type { Services } from './services.js';

/**
 * Binds the dialogs' narrow {@link Services} interface to MongoDB.
 *
 * @example
 * const services = dbServices(db, { officeHours: 'Mon-Fri 08:00-17:00', timeZone: 'Europe/Paris' });
 */
export function dbServices(db: Db, opts: { officeHours: string; timeZone: string }): Services {
  return {
    async createCase(input) {
      const created = await createCase(db, {
        kind: input.kind,
        category: input.category,
        channel: input.address.channel,
        citizen: new Types.ObjectId(input.citizenId),
        anonymous: input.anonymous,
        lang: input.lang,
        fields: {
          description: input.description,
          ...(input.location ? { location: input.location } : {}),
          photos: input.attachments ?? [],
        },
        transcript: input.transcript.map((line) => ({
          from: line.from,
          text: line.text,
          at: new Date(line.at),
        })),
      });
      if (input.contactConsent)
        await db.Citizen.updateOne({ _id: input.citizenId }, { $set: { contactConsent: true } });
      return { reference: created.reference, department: created.department, slaDueAt: created.slaDueAt };
    },

    async caseForCitizen(reference, citizenId) {
      if (!Types.ObjectId.isValid(citizenId)) return null;
      const found = await db.Case.findOne({ reference, citizen: new Types.ObjectId(citizenId) }).lean();
      if (!found) return null;
      return {
        reference: found.reference,
        kind: found.kind,
        category: found.category,
        status: found.status,
        updatedAt: found.updatedAt,
      };
    },

    async appendCitizenMessage(reference, text, attachments, at) {
      try {
        await addTranscript(db, reference, { from: 'citizen', text, attachments, at }, at);
        return true;
      } catch (err) {
        if (isCaseError(err, 'CASE_RESOLVED') || isCaseError(err, 'CASE_NOT_FOUND')) return false;
        throw err;
      }
    },

    async rateCase(reference, citizenId, rating) {
      const own = await db.Case.exists({ reference, citizen: new Types.ObjectId(citizenId) });
      if (own) await rate(db, reference, rating);
    },

    async acknowledgePrivacy(citizenId, at) {
      if (!Types.ObjectId.isValid(citizenId)) return;
      await db.Citizen.updateOne(
        { _id: new Types.ObjectId(citizenId), privacyAckAt: { $exists: false } },
        { $set: { privacyAckAt: at } },
      );
    },

    async eraseCitizen(citizenId) {
      // One erasure for the chat, the officials' API and retention: see src/privacy/erase.ts.
      await eraseCitizenData(db, citizenId, { by: { kind: 'citizen' }, reason: 'request' });
    },

    officeOpen: (at) => officeOpen(opts.officeHours, opts.timeZone, at),
  };
}
