/**
 * The arrival front's thread (see `arrival-front.ts`): takes each Graph call, stamps when it
 * arrived, and passes it on to the simulator's own server with the stamp in a header.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { ARRIVAL_HEADER } from './arrival-front.ts';

const { port, targetPort } = workerData as { port: number; targetPort: number };
const agent = new Agent({ keepAlive: true });

const server = createServer((req, res) => {
  // Wall time with sub-millisecond resolution, comparable across threads.
  const arrivedAt = performance.timeOrigin + performance.now();
  const upstream = request(
    {
      host: '127.0.0.1',
      port: targetPort,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, [ARRIVAL_HEADER]: arrivedAt.toFixed(3) },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    },
  );
  // A call the simulator hangs up on (a timeout fault) is hung up on here too.
  upstream.once('error', () => res.destroy());
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
});

server.listen(port, '127.0.0.1', () => {
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port });
});
