"""The object-storage target: a bucket listed, read and written with boto3 (the I/O edge of an
`s3://` deploy). What to put, in which order and with which headers is `object_store`'s plan.

Endpoint, region and credentials come from the environment, as boto3 reads them; no message
this module raises holds a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from itertools import groupby
from pathlib import Path
from typing import Any

from balise.deploy import DeployFailed, Release, TargetRefused
from balise.object_store import (
    DIGEST_METADATA,
    MANIFEST,
    Deployed,
    S3Target,
    SiteObject,
    UploadPlan,
    object_body,
    plan_upload,
    read_manifest,
    site_object,
    stage,
    summary,
    to_inspect,
)
from balise.stamp import FileDigest

INSTALL = "pip install 'balise[s3]' (boto3)"
CREDENTIALS = (
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_ENDPOINT_URL for a provider other "
    "than AWS, and AWS_DEFAULT_REGION)"
)
# Their values never reach a message, even when a server or a library would echo them.
SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
PARALLEL = 8  # requests in flight within one stage of an upload
NO_ROLLBACK = (
    "an s3:// target keeps no earlier release to roll back to (objects are replaced in "
    "place). Withdraw or fix the statement (delete it or `draft: true`), commit, build, deploy"
)


class PartlyDeployed(DeployFailed):
    """Some objects were written before the failure: the bucket serves a mix, whose links
    all hold (see `object_store.Stage`), until a deploy completes it."""

    def __init__(self, message: str, aftermath: str) -> None:
        super().__init__(message)
        self.aftermath = aftermath  # what the target serves now (cli_deploy prints it)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """The text with the value of every secret variable replaced by `[secret]`."""
    environ = os.environ if environ is None else environ
    for name in SECRET_VARIABLES:
        value = environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "[secret]")
    return text


def s3_client() -> Any:
    """A boto3 S3 client configured from the environment; TargetRefused without boto3."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:
        raise TargetRefused(f"deploying to s3:// needs boto3: {INSTALL}") from error
    config = Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        # S3-compatible stores do not all accept the checksums boto3 adds by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client("s3", config=config)


def _failure(error: Exception, doing: str) -> Exception:
    """A botocore error as what deploy says: TargetRefused (exit 2) or DeployFailed (exit 3)."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return TargetRefused(f"no credentials to {doing}: set {CREDENTIALS} in the environment")
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchBucket", "404"):
            return TargetRefused(f"the bucket does not exist ({doing}): create it first")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
            detail = f"the credentials were refused ({code}): check {CREDENTIALS}"
            return DeployFailed(f"cannot {doing}: {detail}")
    return DeployFailed(redact(f"cannot {doing}: {error}"))


class Bucket:
    """The objects under `s3://BUCKET/PREFIX`: one object per file of the site."""

    def __init__(self, target: S3Target, client: Any) -> None:
        self.target = target
        self.client = client

    def _call(self, doing: str, request: Callable[..., Any], **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return request(Bucket=self.target.bucket, **params)
        except (BotoCoreError, ClientError) as error:
            raise _failure(error, doing) from error

    def _get(self, path: str) -> bytes | None:
        """An object's bytes; None when there is no such object."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.target.bucket, Key=self.target.key(path))
            return answer["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise _failure(error, f"read {self.target}{path}") from error
        except BotoCoreError as error:
            raise _failure(error, f"read {self.target}{path}") from error

    def check(self) -> None:
        """The bucket exists and the credentials open it (before anything is compared)."""
        self._call(f"open {self.target}", self.client.head_bucket)

    def deployed_status(self) -> Mapping[str, Any] | None:
        data = self._get("status.json")
        try:
            value = json.loads(data) if data is not None else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def previous(self) -> Release | None:
        raise TargetRefused(NO_ROLLBACK)

    def roll_back(self, release: Release, message: str) -> str:
        raise TargetRefused(NO_ROLLBACK)

    # --- publishing ---------------------------------------------------------------------

    def _listed(self) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = self.target.prefix
        found = []
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in paginator.paginate(Bucket=self.target.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = str(item["Key"])
                    if not key.endswith("/"):  # a "folder" some consoles make
                        found.append(key.removeprefix(prefix))
        except (BotoCoreError, ClientError) as error:
            raise _failure(error, f"list {self.target}") from error
        return found

    def _digest_of(self, path: str) -> str | None:
        answer = self._call(
            f"read {self.target}{path}", self.client.head_object, Key=self.target.key(path)
        )
        return answer.get("Metadata", {}).get(DIGEST_METADATA)

    def deployed(self, objects: list[SiteObject]) -> Deployed:
        """What the bucket holds: listed, its digests from the manifest, checked by HEAD
        where the manifest does not settle it."""
        listed = self._listed()
        manifest = read_manifest(self._get(MANIFEST)) if MANIFEST in listed else {}
        digests = {path: digest for path, digest in manifest.items() if path in listed}
        inspect = to_inspect(objects, listed, manifest)
        with ThreadPoolExecutor(PARALLEL) as pool:
            for path, digest in zip(inspect, pool.map(self._digest_of, inspect), strict=True):
                if digest:
                    digests[path] = digest
                else:
                    digests.pop(path, None)  # not Balise's (or no longer): left alone
        return Deployed(frozenset(listed), digests)

    def _put(self, site: Path, obj: SiteObject) -> None:
        extra = {"ContentEncoding": obj.content_encoding} if obj.content_encoding else {}
        self._call(
            f"write {self.target}{obj.path}",
            self.client.put_object,
            Key=self.target.key(obj.path),
            Body=object_body(obj, (site / obj.path).read_bytes()),
            ContentType=obj.content_type,
            CacheControl=obj.cache_control,
            Metadata={DIGEST_METADATA: obj.digest},
            **extra,
        )

    def _delete(self, path: str) -> None:
        self._call(
            f"delete {self.target}{path}", self.client.delete_object, Key=self.target.key(path)
        )

    def publish(
        self, site: Path, files: Mapping[str, FileDigest], message: str, release: str
    ) -> str:
        del files, message, release  # objects carry no history; each is hashed as it is read
        objects = [site_object(path, (site / path).read_bytes()) for path in site_files(site)]
        plan = plan_upload(objects, self.deployed(objects))
        if plan.empty:
            return f"{self.target}: already up to date ({summary(plan)})"
        self._upload(site, plan)
        try:
            self._run(self._delete, plan.deletes)
        except _Stopped as stopped:
            raise PartlyDeployed(
                str(stopped.error),
                f"{self.target} serves the new site, but some objects it no longer has are "
                "still there: run deploy again to delete them",
            ) from stopped.error
        self._call(
            f"write {self.target}{MANIFEST}",
            self.client.put_object,
            Key=self.target.key(MANIFEST),
            Body=plan.manifest,
            ContentType="application/json",
            CacheControl="no-store",
        )
        return f"{self.target}: {summary(plan)}"

    def _upload(self, site: Path, plan: UploadPlan) -> None:
        """Put the objects stage by stage: a stage starts once the one before is complete."""
        written = 0
        for _, group in groupby(plan.puts, key=lambda o: stage(o.path)[0]):
            objects = list(group)
            try:
                self._run(lambda obj: self._put(site, obj), objects)
            except _Stopped as stopped:
                written += stopped.done
                if not written:
                    raise stopped.error from None  # nothing changed: it serves what it served
                raise PartlyDeployed(
                    str(stopped.error),
                    f"{self.target} serves the site it served before with {written} of the "
                    f"{len(plan.puts)} new or changed objects (every link among them holds), "
                    "nothing deleted: run deploy again to complete it",
                ) from stopped.error
            written += len(objects)

    @staticmethod
    def _run(act: Callable[[Any], None], items: Sequence[Any]) -> None:
        """`act` on every item, PARALLEL at a time; _Stopped at the first failure, once the
        requests already sent have ended."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            futures = [pool.submit(act, item) for item in items]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                future.cancel()
        ended = [f for f in futures if not f.cancelled()]
        errors = [f.exception() for f in ended if f.exception() is not None]
        if errors:
            raise _Stopped(errors[0], sum(1 for f in ended if f.exception() is None))


class _Stopped(Exception):
    """A batch stopped at a failure (`error`) after `done` of its requests succeeded."""

    def __init__(self, error: BaseException, done: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = done


def site_files(site: Path) -> Iterator[str]:
    """Every file of a built site, as its path relative to the site, in path order."""
    for path in sorted(site.rglob("*")):
        if path.is_file():
            yield path.relative_to(site).as_posix()


def open_bucket(target: S3Target) -> Bucket:
    """The bucket of an s3:// target, checked to exist and to open with the credentials."""
    bucket = Bucket(target, s3_client())
    bucket.check()
    return bucket
