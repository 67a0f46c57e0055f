/**
 * Whether a Service is ours to serve: it must be of type LoadBalancer, and its
 * `spec.loadBalancerClass` must equal ours — with no class configured, only Services without one.
 * Controller and speaker share this so they never disagree about which Services they handle.
 */
export function isOurLoadBalancer(
  svc: { spec?: { type?: string; loadBalancerClass?: string } },
  loadBalancerClass?: string,
): { ours: true } | { ours: false; reason: string } {
  const spec = svc.spec ?? {};
  if (spec.type !== 'LoadBalancer')
    return { ours: false, reason: `type is ${spec.type ?? 'ClusterIP'}, not LoadBalancer` };
  const cls = spec.loadBalancerClass;
  if ((loadBalancerClass ?? undefined) !== (cls ?? undefined))
    return {
      ours: false,
      reason: `loadBalancerClass ${cls ?? '(none)'} is not ours (${loadBalancerClass ?? '(none)'})`,
    };
  return { ours: true };
}
