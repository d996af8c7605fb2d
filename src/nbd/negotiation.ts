/**
 * What the server answers to each option during the handshake, and whether the handshake ends: a pure
 * function of the option, its payload, the exports on offer and what this connection has negotiated so far.
 */
import {
  BASE_ALLOCATION,
  BASE_ALLOCATION_ID,
  Info,
  MAX_PAYLOAD,
  MIN_BLOCK,
  Opt,
  PREFERRED_BLOCK,
  Rep,
  TxFlag,
} from './constants.js';
import {
  decodeGoRequest,
  decodeMetaContextRequest,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoDescription,
  encodeInfoExport,
  encodeInfoName,
  encodeMetaContext,
  encodeOptionReply,
  encodeServerEntry,
  OptionPayloadError,
} from './handshake.js';

export interface ExportInfo {
  name: string;
  size: number;
  description: string;
}

/** The exports on offer: by name, with "" naming the default export. */
export interface ExportCatalog {
  find(name: string): ExportInfo | undefined;
  list(): ExportInfo[];
}

export interface NegotiationState {
  noZeroes: boolean;
  structuredReplies: boolean;
  /** base:allocation was selected with NBD_OPT_SET_META_CONTEXT (for the export named in `metaExport`). */
  baseAllocation: boolean;
  metaExport?: string;
}

export type OptionOutcome =
  | { next: 'options'; replies: Buffer[] }
  | { next: 'transmission'; replies: Buffer[]; export: ExportInfo }
  | { next: 'close'; replies: Buffer[] };

export const EXPORT_FLAGS = TxFlag.HAS_FLAGS | TxFlag.READ_ONLY | TxFlag.SEND_FLUSH | TxFlag.CAN_MULTI_CONN;

export function newNegotiationState(noZeroes: boolean): NegotiationState {
  return { noZeroes, structuredReplies: false, baseAllocation: false };
}

/** Answers one option. Mutates `state` with what the option negotiated. */
export function answerOption(option: number, data: Buffer, catalog: ExportCatalog, state: NegotiationState): OptionOutcome {
  try {
    return answer(option, data, catalog, state);
  } catch (err) {
    if (!(err instanceof OptionPayloadError)) throw err;
    return options(encodeOptionReply(option, Rep.ERR_INVALID, Buffer.from(`malformed option: ${err.message}`)));
  }
}

function answer(option: number, data: Buffer, catalog: ExportCatalog, state: NegotiationState): OptionOutcome {
  switch (option) {
    case Opt.EXPORT_NAME: {
      const found = catalog.find(data.toString('utf8'));
      // The old option has no way to say "no such export" but to hang up.
      if (!found) return { next: 'close', replies: [] };
      return { next: 'transmission', replies: [encodeExportNameReply(found.size, EXPORT_FLAGS, state.noZeroes)], export: found };
    }
    case Opt.ABORT:
      return { next: 'close', replies: [encodeOptionReply(option, Rep.ACK)] };
    case Opt.LIST:
      if (data.length !== 0) return invalid(option, 'NBD_OPT_LIST takes no data');
      return options(...catalog.list().map((e) => encodeOptionReply(option, Rep.SERVER, encodeServerEntry(e.name, e.description))), encodeOptionReply(option, Rep.ACK));
    case Opt.STRUCTURED_REPLY:
      if (data.length !== 0) return invalid(option, 'NBD_OPT_STRUCTURED_REPLY takes no data');
      state.structuredReplies = true;
      return options(encodeOptionReply(option, Rep.ACK));
    case Opt.INFO:
    case Opt.GO: {
      const req = decodeGoRequest(data);
      const found = catalog.find(req.name);
      if (!found) return options(encodeOptionReply(option, Rep.ERR_UNKNOWN, Buffer.from(`no export named "${req.name}"`)));
      const replies = [encodeOptionReply(option, Rep.INFO, encodeInfoExport(found.size, EXPORT_FLAGS))];
      if (req.infos.includes(Info.NAME)) replies.push(encodeOptionReply(option, Rep.INFO, encodeInfoName(found.name)));
      if (req.infos.includes(Info.DESCRIPTION)) replies.push(encodeOptionReply(option, Rep.INFO, encodeInfoDescription(found.description)));
      if (req.infos.includes(Info.BLOCK_SIZE)) replies.push(encodeOptionReply(option, Rep.INFO, encodeInfoBlockSize(MIN_BLOCK, PREFERRED_BLOCK, MAX_PAYLOAD)));
      replies.push(encodeOptionReply(option, Rep.ACK));
      if (option === Opt.INFO) return options(...replies);
      // A context chosen for another export does not carry over to this one.
      if (state.metaExport !== undefined && catalog.find(state.metaExport)?.name !== found.name) state.baseAllocation = false;
      return { next: 'transmission', replies, export: found };
    }
    case Opt.LIST_META_CONTEXT:
    case Opt.SET_META_CONTEXT: {
      const req = decodeMetaContextRequest(data);
      const setting = option === Opt.SET_META_CONTEXT;
      if (setting && !state.structuredReplies) return invalid(option, 'negotiate structured replies before meta contexts');
      if (!catalog.find(req.name)) return options(encodeOptionReply(option, Rep.ERR_UNKNOWN, Buffer.from(`no export named "${req.name}"`)));
      const chosen = selectsBaseAllocation(req.queries, !setting);
      if (setting) {
        state.baseAllocation = chosen;
        state.metaExport = req.name;
      }
      const replies = chosen ? [encodeOptionReply(option, Rep.META_CONTEXT, encodeMetaContext(BASE_ALLOCATION_ID, BASE_ALLOCATION))] : [];
      return options(...replies, encodeOptionReply(option, Rep.ACK));
    }
    default:
      return options(encodeOptionReply(option, Rep.ERR_UNSUP, Buffer.from(`option ${option} is not supported by this server`)));
  }
}

/** Listing with no query, or with the namespace query `base:`, names every context; otherwise exact names only. */
function selectsBaseAllocation(queries: string[], listing: boolean): boolean {
  if (listing && queries.length === 0) return true;
  return queries.some((q) => q === BASE_ALLOCATION || (listing && q === 'base:'));
}

function options(...replies: Buffer[]): OptionOutcome {
  return { next: 'options', replies };
}

function invalid(option: number, why: string): OptionOutcome {
  return options(encodeOptionReply(option, Rep.ERR_INVALID, Buffer.from(why)));
}
