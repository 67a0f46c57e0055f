import { describe, expect, it } from '@jest/globals';
import { cleaningUp, decideLifecycle, type LifecycleInput, type Leftover } from '../src/lifecycle.js';

const OURS = 'metallb.io/operator-cleanup';
const input = (over: Partial<LifecycleInput>): LifecycleInput => ({
  resource: { deleting: false, finalizers: [] },
  managed: true,
  finalizer: OURS,
  leftovers: [],
  ...over,
});
const live = (name: string): Leftover => ({ name, terminating: false });
const going = (name: string): Leftover => ({ name, terminating: true });

describe('decideLifecycle', () => {
  it('the managed resource without the finalizer: put it on, then deploy', () => {
    expect(decideLifecycle(input({}))).toEqual({ step: 'deploy', addFinalizer: true });
  });

  it('the managed resource holding it (among others): deploy only', () => {
    expect(
      decideLifecycle(input({ resource: { deleting: false, finalizers: ['example.com/other', OURS] } })),
    ).toEqual({ step: 'deploy', addFinalizer: false });
  });

  it("another's finalizer alone does not count as ours", () => {
    expect(
      decideLifecycle(input({ resource: { deleting: false, finalizers: ['example.com/other'] } })),
    ).toEqual({ step: 'deploy', addFinalizer: true });
  });

  it('a resource not acted on never gets the finalizer; one it carries is taken off', () => {
    expect(decideLifecycle(input({ managed: false }))).toEqual({
      step: 'report-unmanaged',
      removeFinalizer: false,
    });
    expect(
      decideLifecycle(input({ managed: false, resource: { deleting: false, finalizers: [OURS] } })),
    ).toEqual({ step: 'report-unmanaged', removeFinalizer: true });
  });

  it('deleted with leftovers: delete the ones not already going, whatever the finalizers', () => {
    for (const finalizers of [[OURS], []])
      expect(
        decideLifecycle(
          input({
            resource: { deleting: true, finalizers },
            leftovers: [live('ClusterRole a'), going('ClusterRole b'), live('ClusterRoleBinding a')],
          }),
        ),
      ).toEqual({ step: 'delete', objects: ['ClusterRole a', 'ClusterRoleBinding a'] });
  });

  it('deleted, every leftover terminating: wait, the finalizer stays', () => {
    expect(
      decideLifecycle(
        input({ resource: { deleting: true, finalizers: [OURS] }, leftovers: [going('ClusterRole b')] }),
      ),
    ).toEqual({ step: 'wait', objects: ['ClusterRole b'] });
  });

  it('deleted and nothing left: release it when it holds our finalizer, else nothing to do', () => {
    expect(decideLifecycle(input({ resource: { deleting: true, finalizers: ['x/y', OURS] } }))).toEqual({
      step: 'release',
    });
    expect(decideLifecycle(input({ resource: { deleting: true, finalizers: ['x/y'] } }))).toEqual({
      step: 'done',
    });
  });

  it('a deleted resource not acted on is cleaned up and released the same way', () => {
    expect(
      decideLifecycle(input({ managed: false, resource: { deleting: true, finalizers: [OURS] } })),
    ).toEqual({ step: 'release' });
  });

  it('gone (deleted while no operator ran, or its finalizer removed by hand): delete what is left', () => {
    expect(decideLifecycle(input({ resource: undefined, leftovers: [live('ClusterRole a')] }))).toEqual({
      step: 'delete',
      objects: ['ClusterRole a'],
    });
    expect(decideLifecycle(input({ resource: undefined }))).toEqual({ step: 'done' });
  });

  it('leftovers do not matter while the resource lives', () => {
    expect(decideLifecycle(input({ leftovers: [live('ClusterRole a')] }))).toEqual({
      step: 'deploy',
      addFinalizer: true,
    });
  });
});

describe('cleaningUp', () => {
  it('only when the resource is gone or being deleted', () => {
    expect(cleaningUp(undefined)).toBe(true);
    expect(cleaningUp({ deleting: true, finalizers: [] })).toBe(true);
    expect(cleaningUp({ deleting: false, finalizers: [OURS] })).toBe(false);
  });
});
