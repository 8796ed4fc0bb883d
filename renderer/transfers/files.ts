/**
 * How a dropped or picked file reaches the main process: Electron gives its
 * path (webUtils.getPathForFile in the preload); in web mode the bytes are
 * streamed over the bridge into Hangar's private staging folder.
 */
import { HangarError, type Envelope } from '../../shared/errors';

export type FileRef = { path: string } | { upload: string };

export async function fileRef(file: File): Promise<FileRef> {
  const path = window.hangar?.pathForFile?.(file);
  if (path !== undefined && path !== '') return { path };
  let response: Response;
  try {
    response = await fetch('/api/upload', {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'x-hangar-filename': encodeURIComponent(file.name),
      },
      body: file,
      credentials: 'same-origin',
    });
  } catch {
    throw new HangarError(
      'internal',
      `Could not send ${file.name} to Hangar: is it still running?`,
    );
  }
  if (!response.ok)
    throw new HangarError('internal', `Hangar refused ${file.name}: ${await response.text()}`);
  const envelope = (await response.json()) as Envelope<{ id: string }>;
  if (!envelope.ok) throw HangarError.fromData(envelope.error);
  return { upload: envelope.value.id };
}
