import type { Config } from '@metallb-ts/api';
import { decideAnnouncements, servedOn, type Served, type ServiceDecision } from './announcements.js';
import { buildView, sameItems, type ViewInputs } from './view-builder.js';

/** What the speaker decides from: the view's inputs and the names of the links it can answer on. */
export interface DecideInputs extends ViewInputs {
  readonly links: readonly string[];
}

export interface Decided {
  readonly decisions: ServiceDecision[];
  /** ip -> what this node serves on which links. */
  readonly served: Map<string, Served>;
}

/**
 * The elections and what this node serves, from the caches' lists and the alive set. Both of the
 * speaker's queue keys call it for one change (RECOMPUTE, then the L2STATUS sync): when the
 * inputs are the ones of the last call (the same objects in the lists, an equal alive set and
 * links), the last result comes back instead of a second walk over every Service. The result is
 * shared: do not change it.
 */
export function decideServed(i: DecideInputs): Decided {
  const held = lastDecided.get(i.config);
  if (held !== undefined && sameInputs(held.inputs, i)) return held.decided;
  const { decisions, announce } = decideAnnouncements(buildView(i));
  const decided: Decided = { decisions, served: servedOn(announce, i.links) };
  lastDecided.set(i.config, { inputs: { ...i, alive: new Set(i.alive), links: [...i.links] }, decided });
  return decided;
}

/** The last inputs and result per config object (one speaker per process holds one config at a time). */
const lastDecided = new WeakMap<Config, { inputs: DecideInputs; decided: Decided }>();

function sameInputs(a: DecideInputs, b: DecideInputs): boolean {
  return (
    a.me === b.me &&
    a.config === b.config &&
    a.loadBalancerClass === b.loadBalancerClass &&
    a.ignoreExcludeLabel === b.ignoreExcludeLabel &&
    a.alive.size === b.alive.size &&
    [...b.alive].every((n) => a.alive.has(n)) &&
    sameItems(a.links, b.links) &&
    sameItems(a.nodes, b.nodes) &&
    sameItems(a.services, b.services) &&
    sameItems(a.slices, b.slices)
  );
}
