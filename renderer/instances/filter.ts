/**
 * The Instances filter, in the spirit of the images one (and of `lxc list`):
 * words match a part of the name; `key=value` matches `type`, `status`,
 * `image` (the base image's fingerprint prefix) or a config key such as
 * `image.os=debian` or `user.role=web` (values case-insensitive, a part of
 * the value). Every term must match.
 */
import type { InstanceSummary } from '../../shared/contract';

export function filterInstances(instances: InstanceSummary[], filter: string): InstanceSummary[] {
  const terms = filter.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return instances;
  return instances.filter((instance) => terms.every((term) => matches(instance, term)));
}

function matches(instance: InstanceSummary, term: string): boolean {
  const at = term.indexOf('=');
  if (at <= 0) return instance.name.toLowerCase().includes(term.toLowerCase());
  const key = term.slice(0, at).toLowerCase();
  const wanted = term.slice(at + 1).toLowerCase();
  const value =
    key === 'type'
      ? instance.type
      : key === 'status'
        ? instance.status
        : key === 'image'
          ? (instance.baseImage ?? '')
          : Object.entries(instance.config).find(([name]) => name.toLowerCase() === key)?.[1];
  if (value === undefined) return false;
  return key === 'image' ? value.startsWith(wanted) : value.toLowerCase().includes(wanted);
}
