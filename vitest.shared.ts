// One vitest setup for every project: resolve workspace packages to their TypeScript sources
// (the "@parkpulse/source" export condition) so tests never need a prior build, and compile
// with SWC so that NestJS decorator metadata exists at runtime.
import { basename } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

export function defineProjectConfig(root: string, overrides: ViteUserConfig['test'] = {}) {
  return defineConfig({
    root,
    plugins: [
      swc.vite({
        jsc: {
          target: 'es2023',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
      }),
    ],
    // Vite's default server conditions, plus ours first.
    ssr: {
      resolve: { conditions: ['@parkpulse/source', 'module', 'node', 'development|production'] },
    },
    test: {
      name: basename(root),
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      environment: 'node',
      ...overrides,
    },
  });
}
