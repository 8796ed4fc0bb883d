import { create } from 'zustand';
import { HangarError, type HangarErrorData } from '../../shared/errors';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';

interface ImagesState {
  images: LxdImage[];
  /** Set once the first list arrived, so an empty store is told apart from loading. */
  loaded: boolean;
  loading: boolean;
  error: HangarErrorData | undefined;
  filter: string;
  selected: string | undefined;
  load: (remote: string, project: string) => Promise<void>;
  setFilter: (filter: string) => void;
  select: (fingerprint: string | undefined) => void;
}

let latestRequest = 0;

export const useImages = create<ImagesState>((set) => ({
  images: [],
  loaded: false,
  loading: false,
  error: undefined,
  filter: '',
  selected: undefined,
  load: async (remote, project) => {
    const request = ++latestRequest;
    set({ loading: true });
    try {
      const images = await api.images.list({ remote, project });
      // A slower, older answer must not overwrite a newer one.
      if (request === latestRequest)
        set({ images, loaded: true, loading: false, error: undefined });
    } catch (error) {
      if (request === latestRequest)
        set({ loading: false, error: HangarError.from(error).toData() });
    }
  },
  setFilter: (filter) => set({ filter }),
  select: (selected) => set({ selected }),
}));
