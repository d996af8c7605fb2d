/**
 * Which servers hold a drive, from its `claimed` tokens (`HOST:guest:SERVER:DEVICE`), and how to group the
 * drives of one backup run so that every server is shut down once, for just the drives that need it. Pure.
 */

/** Server UUIDs named by claim tokens, each once, in first-seen order. Tokens of another shape are skipped. */
export function claimingServers(claimed: readonly string[]): string[] {
  const out: string[] = [];
  for (const token of claimed) {
    const parts = token.split(':');
    // HOST:guest:SERVER:DEVICE, where DEVICE itself has colons (ide:0:0): the server is the third field.
    if (parts.length < 4 || parts[1] !== 'guest' || !parts[2]) continue;
    if (!out.includes(parts[2])) out.push(parts[2]);
  }
  return out;
}

export interface ClaimedItem<T> {
  item: T;
  /** Account the drive (and so its servers) belongs to: servers are only ever compared within one. */
  account: string;
  servers: string[];
}

export interface ServerGroup<T> {
  account: string;
  /** Empty for items no running server holds. */
  servers: string[];
  items: T[];
}

/**
 * Groups items that share a server (directly or through a chain: a shared drive used by two servers, one
 * of which has a second drive), keeping the users' order by each group's first item. Items held by no
 * server form groups of one, so they are backed up without touching any server.
 */
export function groupByServers<T>(items: readonly ClaimedItem<T>[]): ServerGroup<T>[] {
  const groups: ServerGroup<T>[] = [];
  for (const it of items) {
    if (it.servers.length === 0) {
      groups.push({ account: it.account, servers: [], items: [it.item] });
      continue;
    }
    const touching = groups.filter((g) => g.account === it.account && g.servers.some((s) => it.servers.includes(s)));
    const target = touching[0] ?? { account: it.account, servers: [], items: [] };
    if (touching.length === 0) groups.push(target);
    for (const other of touching.slice(1)) {
      // Merge later groups into the first one they connect to.
      for (const s of other.servers) if (!target.servers.includes(s)) target.servers.push(s);
      target.items.push(...other.items);
      groups.splice(groups.indexOf(other), 1);
    }
    for (const s of it.servers) if (!target.servers.includes(s)) target.servers.push(s);
    target.items.push(it.item);
  }
  return groups;
}
