import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'e2e/tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // ipam, l2-proto and membership are pure: no Kubernetes, no I/O.
    files: ['packages/ipam/**/*.ts', 'packages/l2-proto/**/*.ts', 'packages/membership/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@kubernetes/*', 'node:fs', 'node:net', 'node:dgram', 'fs', 'net', 'dgram', 'pcap'] },
      ],
    },
  },
  {
    // Only k8s-runtime may touch the Kubernetes client.
    files: ['packages/!(k8s-runtime)/**/*.ts', 'e2e/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@kubernetes/client-node'] }] },
  },
);
