/** Debian's Chromium, as every browser test and benchmark launches it (no browser download). */
export const CHROMIUM_LAUNCH_OPTIONS = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    // This machine's network is closed: no background traffic, no updates.
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
};
