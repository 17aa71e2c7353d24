import { deserialize, serialize, Long } from 'bson';
import type { Doc } from './values.js';

/** Opcodes of the MongoDB wire protocol that this server speaks. */
export const OpCode = { REPLY: 1, QUERY: 2004, MSG: 2013, COMPRESSED: 2012 } as const;

/** MongoDB's own ceiling for one message. */
export const MAX_MESSAGE_BYTES = 48_000_000;
const HEADER_BYTES = 16;
const FLAG_CHECKSUM = 1;
const FLAG_MORE_TO_COME = 1 << 1;
const KNOWN_FLAGS = FLAG_CHECKSUM | FLAG_MORE_TO_COME | (1 << 16);

/** Values in documents are kept as the driver sent them, but Long ids and counts become numbers. */
export const DESERIALIZE = { promoteLongs: true, promoteValues: true } as const;

/** A command decoded from either OP_QUERY (the handshake) or OP_MSG (everything else). */
export interface IncomingCommand {
  requestId: number;
  opCode: number;
  /** The database from `$db` (OP_MSG) or from `<db>.$cmd` (OP_QUERY). */
  db: string;
  /** The command body with kind-1 document sequences folded in as arrays. */
  body: Doc;
  /** The client asked for no reply (`moreToCome`, used by unacknowledged writes). */
  moreToCome: boolean;
}

/** A malformed message: the server closes that connection only. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Reads the total length prefix of the message at the start of `buf`, validating its bounds. */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < 4) return undefined;
  const len = buf.readInt32LE(0);
  if (len < HEADER_BYTES || len > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(`invalid message length ${len}`);
  }
  return len;
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('unterminated C string');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDoc(buf: Buffer, offset: number, limit: number): [Doc, number] {
  if (offset + 5 > limit) throw new ProtocolError('truncated document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit) throw new ProtocolError('document length out of bounds');
  try {
    return [deserialize(buf.subarray(offset, offset + size), DESERIALIZE), offset + size];
  } catch (err) {
    throw new ProtocolError(`invalid BSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Decodes one complete message (header included). */
export function decodeMessage(msg: Buffer): IncomingCommand {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OpCode.QUERY) {
    let off = HEADER_BYTES + 4;
    const [ns, afterNs] = readCString(msg, off);
    off = afterNs + 8; // numberToSkip, numberToReturn
    const [query] = readDoc(msg, off, msg.length);
    const dot = ns.indexOf('.');
    const db = dot < 0 ? ns : ns.slice(0, dot);
    // Old drivers wrap the command as { $query: {...}, $readPreference }.
    const inner = query['$query'];
    const body = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? { ...inner } : query;
    return { requestId, opCode, db, body, moreToCome: false };
  }
  if (opCode === OpCode.MSG) {
    const flags = msg.readUInt32LE(HEADER_BYTES);
    if ((flags & 0xffff & ~KNOWN_FLAGS) !== 0)
      throw new ProtocolError(`unknown required OP_MSG flags ${flags}`);
    const end = flags & FLAG_CHECKSUM ? msg.length - 4 : msg.length;
    let off = HEADER_BYTES + 4;
    let body: Doc | undefined;
    const sequences: [string, Doc[]][] = [];
    while (off < end) {
      const kind = msg.readUInt8(off);
      off += 1;
      if (kind === 0) {
        if (body) throw new ProtocolError('two kind-0 sections');
        [body, off] = readDoc(msg, off, end);
      } else if (kind === 1) {
        if (off + 4 > end) throw new ProtocolError('truncated document sequence');
        const size = msg.readInt32LE(off);
        const seqEnd = off + size;
        if (size < 5 || seqEnd > end) throw new ProtocolError('document sequence out of bounds');
        const [identifier, afterId] = readCString(msg, off + 4);
        let p = afterId;
        const docs: Doc[] = [];
        while (p < seqEnd) {
          const [doc, next] = readDoc(msg, p, seqEnd);
          docs.push(doc);
          p = next;
        }
        sequences.push([identifier, docs]);
        off = seqEnd;
      } else {
        throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new ProtocolError('OP_MSG without a body');
    for (const [identifier, docs] of sequences) body[identifier] = docs;
    const db = typeof body['$db'] === 'string' ? body['$db'] : 'admin';
    return { requestId, opCode, db, body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 };
  }
  throw new ProtocolError(`unsupported opcode ${opCode}`);
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Encodes a reply in the shape matching the request: OP_REPLY for OP_QUERY, else OP_MSG. */
export function encodeReply(requestId: number, responseTo: number, requestOpCode: number, body: Doc): Buffer {
  const doc = toBuffer(serialize(body));
  if (requestOpCode === OpCode.QUERY) {
    const header = Buffer.alloc(HEADER_BYTES + 20);
    header.writeInt32LE(header.length + doc.length, 0);
    header.writeInt32LE(requestId, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(OpCode.REPLY, 12);
    header.writeInt32LE(0, 16); // responseFlags
    header.writeBigInt64LE(0n, 20); // cursorID
    header.writeInt32LE(0, 28); // startingFrom
    header.writeInt32LE(1, 32); // numberReturned
    return Buffer.concat([header, doc]);
  }
  const header = Buffer.alloc(HEADER_BYTES + 5);
  header.writeInt32LE(header.length + doc.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OpCode.MSG, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, doc]);
}

/** A cursor id as the driver expects it: always an int64. */
export function cursorId(id: number): Long {
  return Long.fromNumber(id);
}
