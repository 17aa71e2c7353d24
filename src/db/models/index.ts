import type { Connection } from 'mongoose';
import { auditEventSchema } from './audit.js';
import { caseSchema } from './case.js';
import { citizenSchema } from './citizen.js';
import { categoryRouteSchema, departmentSchema } from './department.js';
import { inboundMessageSchema } from './inbound.js';
import { leaseDocSchema } from './lease.js';
import { officialSchema } from './official.js';
import { outboundMessageSchema } from './outbound.js';
import { sequenceSchema } from './sequence.js';
import { stateItemSchema } from './state.js';

export * from './audit.js';
export * from './case.js';
export * from './citizen.js';
export * from './common.js';
export * from './department.js';
export * from './inbound.js';
export * from './lease.js';
export * from './official.js';
export * from './outbound.js';
export * from './sequence.js';
export * from './state.js';

function createModels(connection: Connection) {
  return {
    AuditEvent: connection.model('AuditEvent', auditEventSchema),
    Case: connection.model('Case', caseSchema),
    CategoryRoute: connection.model('CategoryRoute', categoryRouteSchema),
    Citizen: connection.model('Citizen', citizenSchema),
    Department: connection.model('Department', departmentSchema),
    InboundMessage: connection.model('InboundMessage', inboundMessageSchema),
    Lease: connection.model('Lease', leaseDocSchema),
    Official: connection.model('Official', officialSchema),
    OutboundMessage: connection.model('OutboundMessage', outboundMessageSchema),
    Sequence: connection.model('Sequence', sequenceSchema),
    StateItem: connection.model('StateItem', stateItemSchema),
  };
}

/** Every model of the application, registered on one connection. */
export type Models = ReturnType<typeof createModels>;
export type AuditEventModel = Models['AuditEvent'];
export type CaseModel = Models['Case'];
export type CategoryRouteModel = Models['CategoryRoute'];
export type CitizenModel = Models['Citizen'];
export type DepartmentModel = Models['Department'];
export type InboundMessageModel = Models['InboundMessage'];
export type LeaseModel = Models['Lease'];
export type OfficialModel = Models['Official'];
export type OutboundMessageModel = Models['OutboundMessage'];
export type SequenceModel = Models['Sequence'];
export type StateItemModel = Models['StateItem'];

const registered = new WeakMap<Connection, Models>();

/**
 * Registers every model on `connection` (once: later calls return the same models), never on
 * mongoose's global default connection, so that tests and several databases coexist in one process.
 */
export function registerModels(connection: Connection): Models {
  let models = registered.get(connection);
  if (models === undefined) {
    models = createModels(connection);
    registered.set(connection, models);
  }
  return models;
}
