import { describe, expect, it } from 'vitest';
import { progressFromLxd } from './lxd-progress.js';

describe('progressFromLxd', () => {
  it("reads LXD 5.0's free-text progress", () => {
    expect(
      progressFromLxd(
        { download_progress: 'rootfs: 45% (12.30MB/s)' },
        { download_progress: 'Downloading' },
      ),
    ).toEqual({ stage: 'Downloading (rootfs)', percent: 45 });
    expect(progressFromLxd({ create_instance_from_image_unpack_progress: 'Unpack: 7%' })).toEqual({
      stage: 'create instance from image unpack (Unpack)',
      percent: 7,
    });
  });

  it('prefers the structured progress of newer servers', () => {
    expect(
      progressFromLxd({
        download_progress: 'rootfs: 45% (12.30MB/s)',
        progress: { stage: 'download', percent: '46', processed: '1000', speed: '10' },
      }),
    ).toEqual({ stage: 'download', percent: 46, processed: 1000 });
  });

  it('keeps a stage without a percentage, and ignores metadata without progress', () => {
    expect(progressFromLxd({ fs_progress: 'Unpacking' })).toEqual({ stage: 'fs: Unpacking' });
    expect(progressFromLxd({ fingerprint: 'abc' })).toBeUndefined();
  });
});
