import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Cached download bundles live under `solutions/{sol}/streams/{stm}/bundles/`; see BUNDLE_TAG. */
export const BUNDLE_TAG = { key: 'sluice-cache', value: 'bundle' } as const;

/** How long a cached bundle is kept; it is rebuilt on demand after that. */
export const BUNDLE_EXPIRY = Duration.days(7);

/**
 * The one bucket: every byte Sluice stores (DESIGN.md S3 layout). Private,
 * TLS only, S3-managed encryption. Retained on stack deletion.
 *
 * Lifecycle: S3 prefix filters cannot contain wildcards, and bundles sit under
 * a per-stream prefix, so the expiry rule selects them by an object tag
 * instead: whoever writes a bundle tags it `sluice-cache=bundle` (the
 * PutObject `Tagging` parameter). Incomplete multipart uploads are aborted
 * after a day everywhere.
 */
export class SluiceBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-cached-bundles', tagFilters: { [BUNDLE_TAG.key]: BUNDLE_TAG.value }, expiration: BUNDLE_EXPIRY },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
