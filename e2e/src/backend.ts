// The lab's "app pod": a tiny HTTP server run inside a node namespace that answers every request
// with the node's name, so a client can see which node served it.
// Usage: backend.ts <node-name> [port,port,...]   (default ports 8080,80)
import { createServer } from 'node:http';

const nodeName = process.argv[2];
if (!nodeName) {
  process.stderr.write('usage: backend.ts <node-name> [ports]\n');
  process.exit(2);
}
const ports = (process.argv[3] ?? '8080,80').split(',').map(Number);

const server = (port: number, host: string) => {
  const s = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': nodeName });
    res.end(`${nodeName}\n`);
    req.resume();
  });
  // Short keep-alive so connections to a VIP do not stick to the old node across a failover test.
  s.keepAliveTimeout = 1_000;
  s.on('error', (e) => {
    process.stderr.write(`backend ${nodeName}: ${host}:${port}: ${e.message}\n`);
    process.exit(1);
  });
  s.listen({ port, host, ipv6Only: host === '::' }, () =>
    process.stdout.write(`backend ${nodeName} listening on [${host}]:${port}\n`),
  );
  return s;
};

const servers = ports.flatMap((p) => [server(p, '0.0.0.0'), server(p, '::')]);
const stop = () => {
  for (const s of servers) s.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
