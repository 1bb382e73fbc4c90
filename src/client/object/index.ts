/** The object-storage client (`sluice/client`). */
export { ObjectStore, type ObjectStoreOptions, type StoreTempUrlOptions } from './store';
export { AccountClient, type AccountPostOptions } from './account';
export { ContainerClient, type ContainerWriteOptions } from './container';
export { ObjectClient, type PutOptions, type PutResult, type GetOptions, type GetResult, type CopyOptions, type ByteRange } from './object';
export type { AccountStat, ContainerStat, ObjectStat } from './headers';
export type { ListOptions, ObjectListOptions, ContainerEntry, ObjectEntry, SubdirEntry } from './listing';
export type { BulkDeleteResult } from './bulk-delete';
export type { UploadOptions, UploadProgress, UploadResult, UploadedSegment, UploadSource } from './upload';
export type { DownloadOptions, DownloadProgress, DownloadResult } from './download';
export { generateTempUrl, type TempUrlOptions, type TempUrlDigest } from './tempurl';
export type { SwiftInfo, Target } from './core';
export { EtagMismatchError, LengthMismatchError, UploadVerificationError, ObjectClientUsageError } from './errors';
