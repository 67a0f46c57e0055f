import { randomBytes } from 'node:crypto';
import type { KubeWriter } from './ports.js';
import { isNotFound } from './kube-error.js';
import { silentLogger, type Logger } from './logger.js';
import { formatTime } from './time.js';
import type { KubeObject, LooseKubeObject } from './types.js';

/** An Event's `involvedObject`: which object, of which API version, it is about. */
export interface EventObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records an event about `about`, the object as read from the API server (a cache or a
   * response): the reference (apiVersion, kind, namespace, name, uid) is taken from it, so
   * `kubectl describe` finds the event. Repeats of the same (object, type, reason, message) bump
   * the existing Event's `count` and `lastTimestamp`. Never rejects; failures are logged.
   */
  emit(about: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

/**
 * The reference an Event carries for `obj`, or undefined when the object cannot be referenced
 * (no apiVersion, kind or name). `kubectl describe` looks events up by kind, namespace, name and
 * uid, so an object without a uid (never stored) gets an event no describe will show.
 */
export function eventReference(obj: KubeObject): EventObjectRef | undefined {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (!apiVersion || !kind || !name) return undefined;
  const uid = obj.metadata?.uid;
  return { apiVersion, kind, namespace: obj.metadata?.namespace ?? '', name, ...(uid ? { uid } : {}) };
}

export interface RecorderOptions {
  /** `source.component`, e.g. `metallb-controller`. */
  component: string;
  /** `source.host`, usually the node name. */
  host?: string;
  logger?: Logger;
  /** How many distinct events are remembered for aggregation. Default 4096. */
  maxTracked?: number;
  now?: () => Date;
}

interface Tracked {
  namespace: string;
  name: string;
  count: number;
}

type EventWriter = Pick<KubeWriter, 'create' | 'patch'>;

export function recorder(kube: EventWriter, opts: RecorderOptions): EventRecorder {
  const logger = (opts.logger ?? silentLogger).child({ recorder: opts.component });
  const now = opts.now ?? (() => new Date());
  const maxTracked = opts.maxTracked ?? 4096;
  // Insertion-ordered: re-inserting on use makes the first entry the least recently used.
  const tracked = new Map<string, Tracked>();
  // One write at a time per aggregation key, so repeats fired together still aggregate.
  const chains = new Map<string, Promise<void>>();

  const write = async (
    aggKey: string,
    obj: EventObjectRef,
    type: EventType,
    reason: string,
    message: string,
  ) => {
    const ts = formatTime(now());
    const prev = tracked.get(aggKey);
    if (prev) {
      tracked.delete(aggKey);
      try {
        await kube.patch(
          { apiVersion: 'v1', kind: 'Event', namespace: prev.namespace, name: prev.name, plural: 'events' },
          { count: prev.count + 1, lastTimestamp: ts },
          { type: 'merge' },
        );
        prev.count++;
        tracked.set(aggKey, prev);
        return;
      } catch (error) {
        // Events expire (1 h by default); start a new one then. Other failures: start a new one too
        // rather than lose the occurrence.
        if (!isNotFound(error)) logger.warn('updating event failed, creating a new one', { error, reason });
      }
    }
    const namespace = obj.namespace || 'default';
    const name = `${obj.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    const event: LooseKubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.namespace || undefined,
        name: obj.name,
        uid: obj.uid,
      },
      reason,
      message,
      type,
      source: { component: opts.component, host: opts.host },
      reportingComponent: opts.component,
      reportingInstance: opts.host ?? '',
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    try {
      await kube.create(event);
      tracked.set(aggKey, { namespace, name, count: 1 });
      while (tracked.size > maxTracked) {
        const oldest = tracked.keys().next().value;
        if (oldest === undefined) break;
        tracked.delete(oldest);
      }
    } catch (error) {
      logger.error('recording event failed', {
        error,
        key: obj.namespace ? `${obj.namespace}/${obj.name}` : obj.name,
        kind: obj.kind,
        reason,
        eventMessage: message,
      });
    }
  };

  return {
    emit(about, type, reason, message) {
      const obj = eventReference(about);
      if (!obj) {
        logger.error('event about an object without apiVersion, kind or name; not recorded', {
          kind: about.kind,
          apiVersion: about.apiVersion,
          key: about.metadata?.name,
          reason,
          eventMessage: message,
        });
        return Promise.resolve();
      }
      const aggKey = JSON.stringify([
        obj.apiVersion,
        obj.kind,
        obj.namespace,
        obj.name,
        obj.uid ?? '',
        type,
        reason,
        message,
      ]);
      const prior = chains.get(aggKey) ?? Promise.resolve();
      const next = prior
        .then(() => write(aggKey, obj, type, reason, message))
        .catch((error: unknown) => {
          logger.error('event recorder failed', { error, reason });
        });
      chains.set(aggKey, next);
      void next.then(() => {
        if (chains.get(aggKey) === next) chains.delete(aggKey);
      });
      return next;
    },
  };
}
