// Builds the optional native release addon (native/binding.gyp) at install time.
//
// Never fails the install: without a compiler or Node's headers goheap works in bookkeeping
// mode (heap.releaseMode === 'none'), so a failed build prints one line and exits 0.
// npm runs this as the package's "install" script and passes its bundled node-gyp in
// npm_config_node_gyp (and its nodedir setting in npm_config_nodedir). Run by hand
// (`node native/build.mjs`), it looks for the node-gyp bundled with npm next to this Node,
// and for Node's own headers (<prefix>/include/node). GOHEAP_NO_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
if (process.env.GOHEAP_NO_NATIVE === '1') process.exit(0);
const prefix = dirname(dirname(process.execPath));
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : '');
const args = [...(gyp ? [gyp] : []), 'rebuild', `--directory=${dir}`];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(gyp ? process.execPath : 'node-gyp', args, {
  stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', shell: !gyp && process.platform === 'win32',
});
if (r.status !== 0) {
  const lines = (r.stderr || '').split('\n').filter((l) => /error/i.test(l));
  const why = r.error ? r.error.message : lines.length > 0 ? lines[0].trim() : `node-gyp exited with ${r.status}`;
  console.log(`goheap: native release addon not built (${why}); released memory stays resident (heap.releaseMode 'none')`);
}
process.exit(0);
