"""Published weights, downloaded once into the torch hub folder (`torch.hub.get_dir()`).

The download is torch's own `torch.hub.load_state_dict_from_url`: it checks the file's
SHA-256 against the prefix in its name (`resnet18-f37072fd.pth`), writes to a temporary
file that it removes on any failure, and keeps the file in the hub's `checkpoints` folder,
where the next call finds it. To show progress and to stop on request, the progress bar
torch.hub draws with (its module's `tqdm`) is replaced during the download by one that
reports each chunk and raises `DownloadCancelled` when asked to stop; torch then removes
its partial file. Downloads run one at a time (the replacement is module-wide).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

import torch.hub

from engine.errors import UserError
from engine.model.weights_file import WeightsError

Report = Callable[[int, int | None], None]  # bytes so far, bytes in all (None: unknown)
_ONE_AT_A_TIME = threading.Lock()


class DownloadCancelled(UserError):
    """The user stopped a download; nothing of it is kept."""


def is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def cached_file(url: str) -> Path:
    """Where the torch hub keeps the file downloaded from `url`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def download_weights(
    url: str, report: Report | None = None, cancelled: Callable[[], bool] | None = None
) -> Path:
    """The cached file of `url`, downloaded first when it is not there yet. Raises
    WeightsError (offline, not found, a wrong checksum, not a state_dict) or
    DownloadCancelled; the model it is meant for is not touched either way."""
    path = cached_file(url)
    if path.is_file():
        return path
    with _ONE_AT_A_TIME, _progress(report, cancelled):
        try:
            torch.hub.load_state_dict_from_url(
                url, map_location="cpu", progress=True, check_hash=True, weights_only=True
            )
        except DownloadCancelled:
            raise
        except HTTPError as exc:
            raise WeightsError(
                f"cannot download {url}: the server answers {exc.code} {exc.reason}. The "
                "model is left as it was"
            ) from None
        except URLError as exc:
            reason = getattr(exc, "reason", exc)
            raise WeightsError(
                f"cannot download {url} ({reason}): this machine may be offline. The model "
                "is left as it was; with the file at hand, load it from the disk instead"
            ) from None
        except RuntimeError as exc:  # torch's checksum test, or a file that is no state_dict
            raise WeightsError(f"the file downloaded from {url} was not kept: {exc}") from None
        except Exception as exc:  # unpickling refused by weights_only, a full disk...
            raise WeightsError(
                f"the file downloaded from {url} could not be read as weights "
                f"({type(exc).__name__}: {exc})"
            ) from None
    return path


@contextmanager
def _progress(report: Report | None, cancelled: Callable[[], bool] | None) -> Iterator[None]:
    class Bar:
        def __init__(self, total=None, **_options):
            self.total, self.done = total, 0

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return False

        def update(self, count: int) -> None:
            self.done += count
            if cancelled is not None and cancelled():
                raise DownloadCancelled("the download was cancelled; nothing was kept")
            if report is not None:
                report(self.done, self.total)

    original = torch.hub.tqdm
    torch.hub.tqdm = Bar
    try:
        yield
    finally:
        torch.hub.tqdm = original
