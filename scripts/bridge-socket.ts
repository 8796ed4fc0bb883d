/**
 * A client of web mode's socket (/api/socket) as the page is one, for tests
 * and benches: calls sent as {id, call, input} frames and matched to their
 * {id, envelope} answers.
 */
import WebSocket from 'ws';

export interface BridgeSocket {
  socket: WebSocket;
  /** Resolves with the close code when the socket closes. */
  closed: Promise<number>;
  /** Sends a call; resolves with its answer's envelope. */
  call: (name: string, input: unknown) => Promise<unknown>;
}

/**
 * Opens the socket at `url` (ws://host/api/socket) with these headers (token, Origin…);
 * `onMessage` sees every frame from the first (answers and events).
 */
export async function openBridgeSocket(
  url: string,
  headers: Record<string, string>,
  onMessage?: (text: string) => void,
): Promise<BridgeSocket> {
  const socket = new WebSocket(url, { headers });
  if (onMessage !== undefined) socket.on('message', (data: Buffer) => onMessage(data.toString()));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, (envelope: unknown) => void>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; envelope?: unknown };
    if (message.id === undefined) return;
    waiting.get(message.id)?.(message.envelope);
    waiting.delete(message.id);
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const call = (name: string, input: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, call: name, input }));
    });
  return { socket, closed, call };
}
