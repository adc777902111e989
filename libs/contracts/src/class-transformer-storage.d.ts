// class-transformer keeps its @Type metadata in a module it does not re-export from its root; the
// fast validation path (fast-validate.ts) reads it to follow nested types exactly as plainToInstance does.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
