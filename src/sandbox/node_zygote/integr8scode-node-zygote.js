// integr8scode's warm Node.js zygote (docs/warm-starts.md, "A warm Node.js"), preloaded
// with --require before Node resolves the main script. It loads its addon without the
// module loader (no require.cache entry, no builtin module loaded), removes what the
// preload left visible to the program, and blocks in go() until the run's descriptors
// arrive; then Node's own start-up runs the main script exactly as in a cold start.
// Worker threads preload it too: there go() returns at once.
'use strict';
{
  const addon = { exports: {} };
  process.dlopen(addon, __dirname + '/integr8scode-node-zygote.node');
  // The starter puts `--require <this file>` first (node_zygote.hpp).
  if (process.execArgv[0] === '--require') process.execArgv.splice(0, 2);
  const Module = module.constructor;
  delete Module._cache[__filename];
  for (const key of Object.keys(Module._pathCache)) {
    if (Module._pathCache[key] === __filename) delete Module._pathCache[key];
  }
  addon.exports.go();
}
