// What the validating admission webhook decides for each kind: pure functions over the object as
// the API server sends it. Pool and L2Advertisement rules are buildConfig's own (one set of rules
// for the webhook and the controller); this file only adds what needs the admission context
// (namespace, the other existing pools) and the MetalLB resource's rules.
import { labelKeyProblem, labelValueProblem } from '@metallb-ts/ipam';
import { buildConfig, show, type PoolObjectKind } from './build-config.js';

/** The answer for one object. `message` is one line a person reads: the first problem, and how many more. */
export type AdmissionVerdict =
  | { allowed: true; warnings: string[] }
  | { allowed: false; message: string; problems: string[]; warnings: string[] };

/** The pool objects that already exist (the operator passes its caches' contents). */
export interface ExistingPools {
  addressPools: readonly unknown[];
  ipAddressPools: readonly unknown[];
}

function verdict(problems: string[], warnings: string[] = []): AdmissionVerdict {
  if (problems.length === 0) return { allowed: true, warnings };
  const more = problems.length - 1;
  const message =
    more === 0 ? problems[0]! : `${problems[0]} (and ${more} more problem${more > 1 ? 's' : ''})`;
  return { allowed: false, message, problems, warnings };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Who {
  kind: string;
  namespace: string;
  name: string;
  /** `Kind namespace/name`, the start of every message about the object. */
  text: string;
}

function who(obj: unknown, fallbackKind: string): Who {
  const meta = isRecord(obj) && isRecord(obj.metadata) ? obj.metadata : {};
  const kind = isRecord(obj) && typeof obj.kind === 'string' && obj.kind !== '' ? obj.kind : fallbackKind;
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '<unnamed>';
  return { kind, namespace, name, text: `${kind} ${namespace}/${name}` };
}

function namespaceProblem(w: Who, namespace: string): string | undefined {
  return w.namespace === namespace
    ? undefined
    : `${w.text}: metadata.namespace${show(w.namespace)}: metallb-ts only reads ${w.kind} objects in its own namespace "${namespace}"`;
}

/** The buildConfig errors about `w` itself, split into refusals and notes (the object stays usable). */
function errorsAbout(errors: ReturnType<typeof buildConfig>['errors'], w: Who) {
  const mine = errors.filter((e) => e.kind === w.kind && e.namespace === w.namespace && e.name === w.name);
  return {
    problems: mine.filter((e) => !e.partial).map((e) => e.message),
    notes: mine.filter((e) => e.partial).map((e) => e.message),
  };
}

function poolInput(kind: 'AddressPool' | 'IPAddressPool', objs: unknown[]) {
  return kind === 'AddressPool'
    ? { addressPools: objs as never[], ipAddressPools: [], l2Advertisements: [] }
    : { addressPools: [], ipAddressPools: objs as never[], l2Advertisements: [] };
}

/** buildConfig lets the oldest object win a conflict; the object under review must always be the one reported. */
function asNewest(obj: Record<string, unknown>): Record<string, unknown> {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  return { ...obj, metadata: { ...meta, creationTimestamp: '9999-12-31T23:59:59Z' } };
}

function sameObject(a: Who, other: unknown, otherKind: PoolObjectKind): boolean {
  const o = who(other, otherKind);
  return o.kind === a.kind && o.namespace === a.namespace && o.name === a.name;
}

/**
 * An IPAddressPool or AddressPool about to be created or updated: in the MetalLB namespace; every
 * field as buildConfig reads it (addresses, ranges with start <= end, serviceAllocation, selectors,
 * protocol layer2); its name not used by a pool of the other kind; no address shared with another
 * existing pool. `others` may contain the object's own stored version (an update); it is skipped.
 */
export function validatePoolAdmission(
  obj: unknown,
  others: ExistingPools,
  namespace: string,
): AdmissionVerdict {
  const w = who(obj, 'pool');
  if (w.kind !== 'AddressPool' && w.kind !== 'IPAddressPool')
    return verdict([`${w.text}: kind${show(w.kind)}: expected an AddressPool or an IPAddressPool`]);
  const kind = w.kind;
  const outside = namespaceProblem(w, namespace);
  if (outside) return verdict([outside]);
  const alone = errorsAbout(buildConfig(poolInput(kind, [obj])).errors, w);
  if (alone.problems.length > 0) return verdict(alone.problems);

  // Checked pair by pair, so an overlap with a pool that itself conflicts with a third one is still
  // found, and every pool the object collides with is named.
  const newest = asNewest(obj as Record<string, unknown>);
  const problems: string[] = [];
  const lists: [PoolObjectKind, readonly unknown[]][] = [
    ['AddressPool', others.addressPools],
    ['IPAddressPool', others.ipAddressPools],
  ];
  for (const [otherKind, list] of lists) {
    for (const other of list) {
      if (who(other, otherKind).namespace !== namespace || sameObject(w, other, otherKind)) continue;
      const input = {
        addressPools: [
          ...(otherKind === 'AddressPool' ? [other] : []),
          ...(kind === 'AddressPool' ? [newest] : []),
        ],
        ipAddressPools: [
          ...(otherKind === 'IPAddressPool' ? [other] : []),
          ...(kind === 'IPAddressPool' ? [newest] : []),
        ],
        l2Advertisements: [],
      };
      problems.push(...errorsAbout(buildConfig(input as never).errors, w).problems);
    }
  }
  return verdict([...new Set(problems)].sort());
}

const MAX_INTERFACE_NAME = 15;

/**
 * An L2Advertisement about to be created or updated: in the MetalLB namespace, selectors and
 * interfaces as buildConfig reads them, interface names Linux accepts. Naming a pool that does not
 * exist (yet) is allowed, as in MetalLB; with `existing` it comes back as a warning.
 */
export function validateL2AdvertisementAdmission(
  obj: unknown,
  namespace: string,
  existing?: ExistingPools,
): AdmissionVerdict {
  const w = who(obj, 'L2Advertisement');
  if (w.kind !== 'L2Advertisement')
    return verdict([`${w.text}: kind${show(w.kind)}: expected an L2Advertisement`]);
  const outside = namespaceProblem(w, namespace);
  if (outside) return verdict([outside]);
  const built = buildConfig({
    addressPools: (existing?.addressPools ?? []) as never[],
    ipAddressPools: (existing?.ipAddressPools ?? []) as never[],
    l2Advertisements: [obj as never],
  });
  const { problems, notes } = errorsAbout(built.errors, w);
  const spec = isRecord(obj) && isRecord(obj.spec) ? obj.spec : {};
  if (problems.length === 0 && Array.isArray(spec.interfaces)) {
    spec.interfaces.forEach((name: unknown, i) => {
      if (typeof name !== 'string') return;
      const field = `${w.text}: spec.interfaces[${i}]${show(name)}`;
      if (name.length > MAX_INTERFACE_NAME)
        problems.push(
          `${field}: longer than ${MAX_INTERFACE_NAME} characters, the Linux limit for interface names`,
        );
      else if (/[\s/:]/.test(name) || name === '.' || name === '..')
        problems.push(`${field}: not a Linux interface name (no spaces, '/' or ':')`);
    });
  }
  return verdict(problems, existing ? notes : []);
}

const LOG_LEVELS = ['all', 'debug', 'info', 'warn', 'error', 'none'];
const TOLERATION_OPERATORS = ['Exists', 'Equal'];
const TAINT_EFFECTS = ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Kubernetes quantities: a decimal number with an optional binary, decimal or exponent suffix.
const QUANTITY = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity's value (as a float: enough to compare a request with its limit), or undefined when malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const suffix = m[3] ?? '';
  const base = Number(m[1]);
  if (suffix === '') return base;
  if (/^[eE]/.test(suffix)) return base * 10 ** Number(suffix.slice(1));
  return base * SUFFIX[suffix]!;
}

type Report = (field: string, value: unknown, reason: string) => void;

function checkStringMap(value: unknown, field: string, report: Report, valueCheck = true): void {
  if (value === undefined) return;
  if (!isRecord(value)) return report(field, value, 'must be a map of strings');
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = labelKeyProblem(k);
    if (keyProblem) report(`${field}`, k, `invalid key: ${keyProblem}`);
    if (typeof v !== 'string') report(`${field}.${k}`, v, 'must be a string');
    else if (valueCheck) {
      const valueProblem = labelValueProblem(v);
      if (valueProblem) report(`${field}.${k}`, v, `invalid label value: ${valueProblem}`);
    }
  }
}

function checkTolerations(value: unknown, field: string, report: Report): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) return report(field, value, 'must be a list of tolerations');
  value.forEach((t: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(t)) return report(at, t, 'must be an object');
    const key = t.key ?? '';
    const operator = t.operator ?? 'Equal';
    const effect = t.effect ?? '';
    if (typeof operator !== 'string' || !TOLERATION_OPERATORS.includes(operator))
      return report(`${at}.operator`, t.operator, 'must be Exists or Equal');
    if (typeof effect !== 'string' || !TAINT_EFFECTS.includes(effect))
      return report(`${at}.effect`, t.effect, 'must be empty, NoSchedule, PreferNoSchedule or NoExecute');
    if (typeof key !== 'string') return report(`${at}.key`, key, 'must be a string');
    if (key === '' && operator !== 'Exists')
      report(`${at}.operator`, operator, 'an empty key (every taint) needs operator Exists');
    if (key !== '') {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) report(`${at}.key`, key, `invalid taint key: ${keyProblem}`);
    }
    if (operator === 'Exists' && t.value !== undefined && t.value !== '')
      report(`${at}.value`, t.value, 'must be empty with operator Exists');
    if (t.tolerationSeconds !== undefined && effect !== 'NoExecute')
      report(
        `${at}.tolerationSeconds`,
        t.tolerationSeconds,
        `only allowed with effect NoExecute (effect is${show(effect)})`,
      );
  });
}

function checkFields(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  field: string,
  report: Report,
): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      report(`${field}.${k}`, undefined, `unknown field (known: ${allowed.join(', ')})`);
}

const NODE_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];

function checkNodeSelectorTerm(term: unknown, field: string, report: Report): void {
  if (!isRecord(term))
    return report(field, term, 'must be a node selector term (matchExpressions, matchFields)');
  checkFields(term, ['matchExpressions', 'matchFields'], field, report);
  for (const part of ['matchExpressions', 'matchFields'] as const) {
    const list = term[part];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      report(`${field}.${part}`, list, 'must be a list of requirements');
      continue;
    }
    list.forEach((r: unknown, i) => {
      const at = `${field}.${part}[${i}]`;
      if (!isRecord(r) || typeof r.key !== 'string' || r.key === '')
        return report(at, r, 'needs a key and an operator');
      if (typeof r.operator !== 'string' || !NODE_OPERATORS.includes(r.operator))
        return report(`${at}.operator`, r.operator, `must be one of ${NODE_OPERATORS.join(', ')}`);
      const values = r.values === undefined ? [] : r.values;
      if (!Array.isArray(values)) return report(`${at}.values`, values, 'must be a list of strings');
      if ((r.operator === 'In' || r.operator === 'NotIn') && values.length === 0)
        report(`${at}.values`, values, `must be non-empty for operator ${r.operator}`);
      if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && values.length > 0)
        report(`${at}.values`, values, `must be empty for operator ${r.operator}`);
      if (
        (r.operator === 'Gt' || r.operator === 'Lt') &&
        (values.length !== 1 || !/^-?[0-9]+$/.test(String(values[0])))
      )
        report(`${at}.values`, values, `must be one integer for operator ${r.operator}`);
    });
  }
}

function checkPodAffinityTerm(term: unknown, field: string, report: Report): void {
  if (!isRecord(term)) return report(field, term, 'must be a pod affinity term');
  checkFields(
    term,
    [
      'labelSelector',
      'namespaces',
      'topologyKey',
      'namespaceSelector',
      'matchLabelKeys',
      'mismatchLabelKeys',
    ],
    field,
    report,
  );
  if (typeof term.topologyKey !== 'string' || term.topologyKey === '')
    report(
      `${field}.topologyKey`,
      term.topologyKey,
      'is required (a node label such as kubernetes.io/hostname)',
    );
}

function checkWeighted(
  list: unknown,
  field: string,
  inner: string,
  check: (term: unknown, field: string, report: Report) => void,
  report: Report,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) return report(field, list, 'must be a list of weighted terms');
  list.forEach((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(item)) return report(at, item, `must be an object with weight and ${inner}`);
    checkFields(item, ['weight', inner], at, report);
    const weight = item.weight;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 100)
      report(`${at}.weight`, weight, 'must be an integer from 1 to 100');
    check(item[inner], `${at}.${inner}`, report);
  });
}

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution';

function checkAffinity(value: unknown, field: string, report: Report): void {
  if (value === undefined) return;
  if (!isRecord(value)) return report(field, value, 'must be a Kubernetes Affinity object');
  checkFields(value, ['nodeAffinity', 'podAffinity', 'podAntiAffinity'], field, report);
  const node = value.nodeAffinity;
  if (node !== undefined) {
    const at = `${field}.nodeAffinity`;
    if (!isRecord(node)) report(at, node, 'must be an object');
    else {
      checkFields(node, [REQUIRED, PREFERRED], at, report);
      const required = node[REQUIRED];
      if (required !== undefined) {
        const terms = isRecord(required) ? required.nodeSelectorTerms : undefined;
        if (!Array.isArray(terms) || terms.length === 0)
          report(
            `${at}.${REQUIRED}.nodeSelectorTerms`,
            terms,
            'must be a non-empty list of node selector terms',
          );
        else
          terms.forEach((t: unknown, i) =>
            checkNodeSelectorTerm(t, `${at}.${REQUIRED}.nodeSelectorTerms[${i}]`, report),
          );
      }
      checkWeighted(node[PREFERRED], `${at}.${PREFERRED}`, 'preference', checkNodeSelectorTerm, report);
    }
  }
  for (const which of ['podAffinity', 'podAntiAffinity'] as const) {
    const pod = value[which];
    if (pod === undefined) continue;
    const at = `${field}.${which}`;
    if (!isRecord(pod)) {
      report(at, pod, 'must be an object');
      continue;
    }
    checkFields(pod, [REQUIRED, PREFERRED], at, report);
    const required = pod[REQUIRED];
    if (required !== undefined) {
      if (!Array.isArray(required))
        report(`${at}.${REQUIRED}`, required, 'must be a list of pod affinity terms');
      else required.forEach((t: unknown, i) => checkPodAffinityTerm(t, `${at}.${REQUIRED}[${i}]`, report));
    }
    checkWeighted(pod[PREFERRED], `${at}.${PREFERRED}`, 'podAffinityTerm', checkPodAffinityTerm, report);
  }
}

function checkResources(value: unknown, field: string, report: Report): void {
  if (value === undefined) return;
  if (!isRecord(value)) return report(field, value, 'must be a Kubernetes ResourceRequirements object');
  checkFields(value, ['limits', 'requests', 'claims'], field, report);
  const parsed: Record<'limits' | 'requests', Map<string, number>> = {
    limits: new Map(),
    requests: new Map(),
  };
  for (const part of ['limits', 'requests'] as const) {
    const map = value[part];
    if (map === undefined) continue;
    if (!isRecord(map)) {
      report(`${field}.${part}`, map, 'must be a map of resource name to quantity');
      continue;
    }
    for (const [name, q] of Object.entries(map)) {
      const amount = parseQuantity(q);
      if (amount === undefined)
        report(`${field}.${part}.${name}`, q, 'not a quantity (like 100m, 128Mi or 2)');
      else parsed[part].set(name, amount);
    }
  }
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (limit !== undefined && request > limit) {
      const requests = value.requests as Record<string, unknown>;
      const limits = value.limits as Record<string, unknown>;
      report(
        `${field}.requests.${name}`,
        requests[name],
        `must be less than or equal to the limit${show(limits[name])}`,
      );
    }
  }
  if (value.claims !== undefined && !Array.isArray(value.claims))
    report(`${field}.claims`, value.claims, 'must be a list of resource claims');
}

function checkComponentConfig(value: unknown, field: string, report: Report): void {
  if (value === undefined) return;
  if (!isRecord(value)) return report(field, value, 'must be an object');
  checkFields(
    value,
    ['priorityClassName', 'runtimeClassName', 'affinity', 'annotations', 'resources'],
    field,
    report,
  );
  for (const name of ['priorityClassName', 'runtimeClassName'] as const) {
    const v = value[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length > 253 || !DNS_SUBDOMAIN.test(v))
      report(`${field}.${name}`, v, 'must be a DNS subdomain (lower case alphanumerics, - and .)');
  }
  checkStringMap(value.annotations, `${field}.annotations`, report, false);
  checkAffinity(value.affinity, `${field}.affinity`, report);
  checkResources(value.resources, `${field}.resources`, report);
}

/**
 * A MetalLB resource about to be created or updated. Anything BGP is refused (metallb-ts is layer 2
 * only), as are what the API server would only find when the operator deploys the pods (toleration
 * seconds without NoExecute, affinity weights outside 1..100, malformed selectors, affinity and
 * resources): the person applying the resource reads what is wrong instead of a Degraded condition later.
 */
export function validateMetalLB(obj: unknown): AdmissionVerdict {
  const w = who(obj, 'MetalLB');
  if (w.kind !== 'MetalLB') return verdict([`${w.text}: kind${show(w.kind)}: expected a MetalLB`]);
  const problems: string[] = [];
  const report: Report = (field, value, reason) =>
    void problems.push(`${w.text}: ${field}${show(value)}: ${reason}`);
  const spec = isRecord(obj) ? obj.spec : undefined;
  if (spec === undefined || spec === null) return verdict([]);
  if (!isRecord(spec)) return verdict([`${w.text}: spec${show(spec)}: must be an object`]);
  for (const [key, value] of Object.entries(spec)) {
    if (/^(bgp|frr)/i.test(key))
      report(`spec.${key}`, value, 'metallb-ts is layer 2 only; BGP settings are not supported');
  }
  if (
    spec.logLevel !== undefined &&
    (typeof spec.logLevel !== 'string' || !LOG_LEVELS.includes(spec.logLevel))
  )
    report('spec.logLevel', spec.logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);
  checkStringMap(spec.nodeSelector, 'spec.nodeSelector', report);
  checkStringMap(spec.controllerNodeSelector, 'spec.controllerNodeSelector', report);
  checkTolerations(spec.speakerTolerations, 'spec.speakerTolerations', report);
  checkTolerations(spec.controllerTolerations, 'spec.controllerTolerations', report);
  if (spec.loadBalancerClass !== undefined) {
    const problem =
      typeof spec.loadBalancerClass === 'string'
        ? labelKeyProblem(spec.loadBalancerClass)
        : 'must be a string';
    if (problem)
      report('spec.loadBalancerClass', spec.loadBalancerClass, `not a valid class name: ${problem}`);
  }
  checkComponentConfig(spec.controllerConfig, 'spec.controllerConfig', report);
  checkComponentConfig(spec.speakerConfig, 'spec.speakerConfig', report);
  return verdict(problems);
}
