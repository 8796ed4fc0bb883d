/**
 * The draft of the image on screen: loaded with its ETag, edited in the
 * Properties form or as YAML (one draft, both tabs), saved with If-Match.
 * A conflict or a refusal never loses the draft.
 */
import { create } from 'zustand';
import type { ImageForEdit } from '../../shared/contract';
import type { LxdImage } from '../../shared/lxd';
import { HangarError } from '../../shared/errors';
import {
  documentOf,
  documentToYaml,
  sameDocument,
  rebaseDraft,
  type ImageDocument,
  type ParsedDocument,
} from '../../shared/images/document';
import { api } from '../api/hangar';
import {
  fieldsOf,
  formToYaml,
  parseDraft,
  reconcileRows,
  type FormFields,
  type PropertyRow,
} from './draft';

export interface EditTarget {
  remote: string;
  project: string;
  fingerprint: string;
}

interface EditState {
  target: EditTarget | undefined;
  /** The server's document the draft started from, and its ETag. */
  base: ImageDocument | undefined;
  etag: string;
  loadError: string | undefined;
  /** The draft as YAML: what both tabs edit. */
  yaml: string;
  parsed: ParsedDocument | undefined;
  /** Which tab made the draft last: YAML the form cannot read locks the form until fixed. */
  editedIn: 'form' | 'yaml';
  rows: PropertyRow[];
  fields: FormFields | undefined;
  saving: boolean;
  saveError: string | undefined;
  /** The server's version when a save found the image changed (412). */
  conflict: ImageForEdit | undefined;
  /** An action that waits for the user to drop unsaved changes. */
  pendingLeave: (() => void) | undefined;

  /** Loads the image's document and ETag; `readOnly` images (simplestreams) use `image` as is. */
  open: (target: EditTarget, image: LxdImage, readOnly: boolean) => Promise<void>;
  editForm: (fields: FormFields, rows: PropertyRow[]) => void;
  editYaml: (text: string) => void;
  save: () => Promise<boolean>;
  revert: () => void;
  /** Conflict: the draft's changes applied on the server's new version (then saved by the user). */
  reapply: () => void;
  /** Conflict: the server's version replaces the draft. */
  takeServer: () => void;
  /** Runs `action` now, or once the user agreed to drop the unsaved draft. */
  guard: (action: () => void) => void;
  confirmLeave: () => void;
  cancelLeave: () => void;
}

const sameTarget = (a: EditTarget | undefined, b: EditTarget | undefined) =>
  a !== undefined &&
  a.remote === b?.remote &&
  a.project === b.project &&
  a.fingerprint === b.fingerprint;

/** The draft differs from what the server has (an unparseable draft always does). */
export function isDirty(state: Pick<EditState, 'base' | 'parsed' | 'yaml'>): boolean {
  if (state.base === undefined) return false;
  if (state.parsed === undefined) return false;
  if (!state.parsed.ok) return state.yaml !== documentToYaml(state.base);
  return !sameDocument(state.parsed.document, state.base);
}

export const useEdit = create<EditState>((set, get) => {
  /**
   * A fresh draft of `document` (the server's). Rows keep their ids by key: the same image
   * loaded again (a save, a live update of the list) keeps the form's inputs, so keys typed into
   * one as it reloads are not sent to an input just taken off the page, and the focus stays.
   */
  const reset = (document: ImageDocument, etag: string) => {
    const yaml = documentToYaml(document);
    set({
      base: document,
      etag,
      yaml,
      editedIn: 'form',
      parsed: parseDraft(yaml, document),
      rows: reconcileRows(get().rows, document),
      fields: fieldsOf(document),
      saveError: undefined,
      conflict: undefined,
    });
  };
  /** A new draft text: parsed, and the form follows when it parses. */
  const setDraft = (yaml: string, rows?: PropertyRow[], fields?: FormFields) => {
    const { base } = get();
    if (base === undefined) return;
    const parsed = parseDraft(yaml, base);
    set({
      yaml,
      parsed,
      editedIn: rows === undefined ? 'yaml' : 'form',
      saveError: undefined,
      ...(rows !== undefined && fields !== undefined
        ? { rows, fields }
        : parsed.ok
          ? { rows: reconcileRows(get().rows, parsed.document), fields: fieldsOf(parsed.document) }
          : {}),
    });
  };

  return {
    target: undefined,
    base: undefined,
    etag: '',
    loadError: undefined,
    yaml: '',
    parsed: undefined,
    editedIn: 'form',
    rows: [],
    fields: undefined,
    saving: false,
    saveError: undefined,
    conflict: undefined,
    pendingLeave: undefined,

    open: async (target) => {
      const state = get();
      // The same image again (a live update of the list): keep a draft with changes.
      if (sameTarget(state.target, target) && isDirty(state)) return;
      if (!sameTarget(state.target, target))
        set({
          target,
          base: undefined,
          parsed: undefined,
          loadError: undefined,
          conflict: undefined,
        });
      try {
        const { image, etag } = await api.images.document(target);
        if (!sameTarget(get().target, target)) return;
        // Typed meanwhile: the draft stays; a save will compare ETags.
        if (isDirty(get())) return;
        reset(documentOf(image), etag);
        set({ loadError: undefined });
      } catch (error) {
        if (sameTarget(get().target, target)) set({ loadError: HangarError.from(error).message });
      }
    },

    editForm: (fields, rows) => setDraft(formToYaml(fields, rows), rows, fields),
    editYaml: (text) => setDraft(text),

    save: async () => {
      const { target, parsed, etag } = get();
      if (target === undefined || !parsed?.ok) return false;
      set({ saving: true, saveError: undefined });
      try {
        const saved = await api.images.update({ ...target, etag, document: parsed.document });
        if (sameTarget(get().target, target)) reset(documentOf(saved.image), saved.etag);
        set({ saving: false });
        return true;
      } catch (error) {
        const failure = HangarError.from(error);
        if (failure.code === 'outdated') {
          try {
            const server = await api.images.document(target);
            set({ saving: false, conflict: server });
            return false;
          } catch (reload) {
            set({ saving: false, saveError: HangarError.from(reload).message });
            return false;
          }
        }
        set({ saving: false, saveError: failure.message });
        return false;
      }
    },

    revert: () => {
      const { base, etag } = get();
      if (base !== undefined) reset(base, etag);
    },

    reapply: () => {
      const { base, parsed, conflict } = get();
      if (base === undefined || conflict === undefined || !parsed?.ok) return;
      const server = documentOf(conflict.image);
      const merged = rebaseDraft(base, parsed.document, server);
      set({ base: server, etag: conflict.etag, conflict: undefined });
      const yaml = documentToYaml(merged);
      set({
        yaml,
        parsed: parseDraft(yaml, server),
        rows: reconcileRows(get().rows, merged),
        fields: fieldsOf(merged),
      });
    },

    takeServer: () => {
      const { conflict } = get();
      if (conflict !== undefined) reset(documentOf(conflict.image), conflict.etag);
    },

    guard: (action) => {
      if (isDirty(get())) set({ pendingLeave: action });
      else action();
    },
    confirmLeave: () => {
      const action = get().pendingLeave;
      const { base, etag } = get();
      if (base !== undefined) reset(base, etag);
      set({ pendingLeave: undefined });
      action?.();
    },
    cancelLeave: () => set({ pendingLeave: undefined }),
  };
});
