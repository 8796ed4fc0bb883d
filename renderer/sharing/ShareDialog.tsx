/**
 * "Share…": how others use an image. A public image of an LXD server is
 * theirs with `lxc remote add <name> <address> --public` once the server's
 * API listens on the network; a unified image file can also be served by a
 * static web server for `lxc image import <url>`.
 */
import { useEffect, useState } from 'react';
import { HangarError } from '../../shared/errors';
import type { LxdImage } from '../../shared/lxd';
import { nginxImportSnippet, type ShareInfo } from '../../shared/sharing';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { Alert } from '../common/fields';

const WHERE = { server: 'On the server', client: 'On their machine', 'web-server': 'Web server' };

export function ShareDialog({
  image,
  remote,
  onClose,
}: {
  image: LxdImage;
  remote: string;
  onClose: () => void;
}) {
  const [info, setInfo] = useState<ShareInfo | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api.remotes.shareInfo({ remote }).then(setInfo, (failure: unknown) => {
      setError(HangarError.from(failure).message);
    });
  }, [remote]);
  const name = image.aliases[0]?.name ?? image.fingerprint.slice(0, 12);
  return (
    <Dialog title={`Share ${name}`} onClose={onClose}>
      <div className="form">
        {image.public ? (
          <p>This image is public: anyone who can reach {remote}&apos;s API may use it.</p>
        ) : (
          <p>
            This image is private. Make it public first (Properties tab → Public), or others see
            nothing of it.
          </p>
        )}
        <Alert message={error} />
        {info === undefined ? null : (
          <>
            <p className="muted">
              {info.httpsAddress === ''
                ? `${remote} does not listen on the network (core.https_address is not set).`
                : `${remote} listens on ${info.httpsAddress}${info.addresses.length > 0 ? ` (${info.addresses.join(', ')})` : ''}.`}
            </p>
            <ol aria-label="Share commands">
              {info.commands.map((command) => (
                <li key={command.text}>
                  {WHERE[command.where]}: {command.title}
                  <pre className="mono">{command.text}</pre>
                </li>
              ))}
              <li>
                On their machine: use this image
                <pre className="mono">{`lxc image copy <name>:${image.aliases[0]?.name ?? image.fingerprint} local:`}</pre>
              </li>
            </ol>
          </>
        )}
        <h3>Without an LXD server: a static web server</h3>
        <p className="muted">
          For a unified image (one file): export it (Export…), put the file on a web server that
          answers with the <span className="mono">LXD-Image-Hash</span> and{' '}
          <span className="mono">LXD-Image-URL</span> headers, and others run{' '}
          <span className="mono">lxc image import &lt;url&gt;</span> (LXD 5.x; removed in 6.9). LXD
          takes one file there: a split image (metadata and rootfs) is served with Export as
          simplestreams… instead. For nginx:
        </p>
        <pre className="mono">
          {nginxImportSnippet({
            fingerprint: image.fingerprint,
            fileName: image.filename === '' ? `${image.fingerprint}.tar.gz` : image.filename,
            host: 'images.example.org',
          })}
        </pre>
        <p className="muted">
          For several images, or images kept up to date, use Export as simplestreams… and serve the
          folder.
        </p>
        <div className="buttons">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  );
}
