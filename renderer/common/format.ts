/** A SHA-256 fingerprint in pairs, as `lxc info` and browsers show certificates, for comparing by eye. */
export function groupFingerprint(fingerprint: string): string {
  return fingerprint.match(/.{1,2}/g)?.join(':') ?? fingerprint;
}

/** "3 hours ago" for a past ISO date. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  const units: [string, number][] = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return `${count} ${unit}${count === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}
