/**
 * The contract's names without its schemas: all the preload and the
 * renderer need, so neither bundles the validators. `contract.ts` is checked
 * against these lists at compile time.
 */
export const callNames = [
  'remotes.list',
  'remotes.status',
  'remotes.probe',
  'remotes.add',
  'remotes.remove',
  'remotes.rename',
  'remotes.setDefault',
  'remotes.trustCertificate',
  'remotes.lxcOffer',
  'remotes.importLxc',
  'remotes.dismissLxcImport',
  'remotes.shareInfo',
  'app.info',
  'app.chooseFolder',
  'projects.list',
  'images.list',
  'images.load',
  'images.view',
  'images.rows',
  'images.select',
  'images.details',
  'images.get',
  'images.aliases',
  'images.document',
  'images.update',
  'images.access',
  'images.aliasCreate',
  'images.aliasUpdate',
  'images.aliasRename',
  'images.aliasDelete',
  'images.usage',
  'images.delete',
  'images.refresh',
  'images.checkUpdates',
  'images.copy',
  'images.export',
  'images.importFiles',
  'images.importUrl',
  'images.exportSimplestreams',
  'instances.launch',
  'instances.list',
  'instances.publish',
  'build.architectures',
  'build.check',
  'build.pack',
  'operations.list',
  'operations.cancel',
] as const;
export const eventNames = [
  'remote.status',
  'remotes.changed',
  'images.changed',
  'images.listChanged',
  'operations.changed',
] as const;

export type CallName = (typeof callNames)[number];
export type EventName = (typeof eventNames)[number];

export function isCallName(name: string): name is CallName {
  return (callNames as readonly string[]).includes(name);
}

export function isEventName(name: unknown): name is EventName {
  return (eventNames as readonly unknown[]).includes(name);
}

/** Builds `facade.images.list(input)` from one function that performs a call by name. */
export function buildFacade<T>(
  perform: (name: CallName, input: unknown) => T,
): Record<string, Record<string, (input: unknown) => T>> {
  const facade: Record<string, Record<string, (input: unknown) => T>> = {};
  for (const name of callNames) {
    const [namespace = '', method = ''] = name.split('.');
    facade[namespace] ??= {};
    facade[namespace][method] = (input: unknown) => perform(name, input);
  }
  return facade;
}
