# Plain workerd, no Miniflare: used only to count the CPU a worker's startup costs.
# bench/run.ts copies this file next to the built bundle (bundle.js) and the empty reference
# worker (empty.js), then runs `workerd serve startup.capnp <bundle|empty> --control-fd=3`
# and reads the process's CPU time when workerd reports its socket listening: by then the
# worker's modules have been compiled and evaluated. Bindings are left out on purpose, as
# module evaluation never touches `env`; the Durable Object class is declared as in wrangler.toml.
using Workerd = import "/workerd/workerd.capnp";

const bundle :Workerd.Config = (
  services = [ (name = "main", worker = .bundleWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const bundleWorker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "bundle.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "FlowObject", uniqueKey = "hookflow-FlowObject", enableSql = true) ],
  durableObjectStorage = (inMemory = void),
);

const empty :Workerd.Config = (
  services = [ (name = "main", worker = .emptyWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const emptyWorker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "empty.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "FlowObject", uniqueKey = "hookflow-FlowObject", enableSql = true) ],
  durableObjectStorage = (inMemory = void),
);

# The edge Worker (wrangler.edge.toml) exports no Durable Object class: the same pair without one.
const edge :Workerd.Config = (
  services = [ (name = "main", worker = .edgeWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "bundle.js") ],
  compatibilityDate = "2026-11-01",
);

const edgeEmpty :Workerd.Config = (
  services = [ (name = "main", worker = .edgeEmptyWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const edgeEmptyWorker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "empty.js") ],
  compatibilityDate = "2026-11-01",
);

# For the startup profile: the bundle is imported on the first request, with the profiler running.
const profile :Workerd.Config = (
  services = [ (name = "main", worker = .profileWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const profileWorker :Workerd.Worker = (
  modules = [
    (name = "profile-entry.js", esModule = embed "profile-entry.js"),
    (name = "index.js", esModule = embed "bundle.js"),
  ],
  compatibilityDate = "2026-11-01",
);
