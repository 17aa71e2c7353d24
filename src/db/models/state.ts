import { Schema } from 'mongoose';

/**
 * One item of botbuilder conversation/user state. The item is kept as its JSON text rather than as a
 * sub-document: botbuilder and dialog state are opaque objects whose keys we do not control (dots,
 * `$`-prefixed keys such as `$instance` are not valid in update documents), and botbuilder's own
 * MemoryStorage round-trips items through JSON, so this keeps exactly its semantics.
 */
export interface StateItem {
  _id: string;
  eTag: string;
  json: string;
  updatedAt: Date;
  /**
   * A bounded list kept beside the item (the conversation's recent lines): appended by the same
   * atomic update that writes the item, never read with it, so no turn parses or rewrites it.
   */
  recent?: object[];
}

export const stateItemSchema = new Schema<StateItem>(
  {
    _id: { type: String, required: true },
    eTag: { type: String, required: true },
    json: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    recent: { type: [Schema.Types.Mixed], default: undefined },
  },
  { collection: 'state', versionKey: false },
);

// Retention sweeps drop state that has not been touched for a long time.
stateItemSchema.index({ updatedAt: 1 });
