/**
 * A loopback TCP proxy whose server-to-client direction can be slowed down:
 * a slow link between two real daemons, so that a test can act in the middle
 * of a transfer (cancel a copy) without racing it. TLS passes through it
 * untouched, as through any router.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottleProxy {
  /** host:port to connect to instead of the target. */
  address: string;
  /** Bytes per second from the target to its clients; Infinity: as fast as the link goes. */
  setRate: (bytesPerSecond: number) => void;
  close: () => Promise<void>;
}

export async function startThrottleProxy(target: {
  host: string;
  port: number;
}): Promise<ThrottleProxy> {
  let rate = Infinity;
  const sockets = new Set<Socket>();
  const throttle = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        if (rate === Infinity) {
          callback(null, chunk);
          return;
        }
        // Slices of 16 KiB, each after its share of a second.
        void (async () => {
          for (let offset = 0; offset < chunk.length; offset += 16 * 1024) {
            const slice = chunk.subarray(offset, offset + 16 * 1024);
            await sleep((1000 * slice.length) / rate);
            this.push(slice);
          }
          callback();
        })();
      },
    });
  // Half-open sockets: each direction ends on its own, once its (throttled) bytes are through.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ ...target, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    // A failure on one side closes both.
    const failed = (error: Error | null) => {
      if (error === null) return;
      client.destroy();
      upstream.destroy();
    };
    pipeline(client, upstream, failed);
    pipeline(upstream, throttle(), client, failed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    setRate: (bytesPerSecond) => {
      rate = bytesPerSecond;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
