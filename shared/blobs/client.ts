import { S3Client } from '@aws-sdk/client-s3';

/**
 * The one S3 client of a Lambda. The endpoint comes from AWS_ENDPOINT_URL_S3
 * when set (the local runtime, LocalStack); path-style addressing is needed by
 * local S3 servers only. Checksums only when required, as local servers do not
 * speak the newer default checksum headers.
 */
// Pure, so a bundle that never sends through it does not construct it (docs/decisions.md, "Cold start").
export const s3 = /* @__PURE__ */ new S3Client({
  forcePathStyle: process.env.SLUICE_S3_FORCE_PATH_STYLE === 'true',
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

export function bucketName(): string {
  const name = process.env.BUCKET_NAME;
  if (!name) throw new Error('BUCKET_NAME is not set');
  return name;
}
