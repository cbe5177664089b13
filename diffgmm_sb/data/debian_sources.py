"""Fetching real recordings out of Debian packages, offline of any data hub.

The starter corpus is built from recordings that Debian distributes in
ordinary packages (prompts of professional voice talents, recorded game and
simulator ambiences, keyboard clicks, music on hold). ``fetch_package`` gets a
``.deb`` with ``apt-get download`` (the package registry is the only network
these recipes need), and ``extract_members`` reads the wanted files out of it
in pure Python (``ar`` container + ``data.tar.*``), so no root rights and no
installation are needed.

Authors
 * diffgmm-sb developers 2026
"""

import fnmatch
import glob
import os
import shutil
import subprocess
import tarfile


class SourceUnavailable(RuntimeError):
    """A data source cannot be obtained on this machine."""


def fetch_package(package, cache_dir):
    """Returns the path of ``package``'s ``.deb`` in ``cache_dir``, downloading it once.

    Raises
    ------
    SourceUnavailable
        When ``apt-get`` is missing or cannot download the package.
    """
    os.makedirs(cache_dir, exist_ok=True)
    found = sorted(glob.glob(os.path.join(cache_dir, f"{package}_*.deb")))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        raise SourceUnavailable(
            f"cannot fetch the Debian package '{package}': apt-get is not available "
            "(not a Debian/Ubuntu machine); build the corpus from your own recordings "
            "instead: --own_corpus=DIR --data_folder=data/own, with DIR/speech/<speaker>/ "
            f"and DIR/noise/<category>/ (or put the .deb into {cache_dir})"
        )
    proc = subprocess.run(
        ["apt-get", "download", package],
        cwd=cache_dir,
        capture_output=True,
        text=True,
    )
    found = sorted(glob.glob(os.path.join(cache_dir, f"{package}_*.deb")))
    if proc.returncode != 0 or not found:
        raise SourceUnavailable(
            f"'apt-get download {package}' failed: {proc.stderr.strip()[-300:]} "
            "(run 'apt-get update' first, or check that Debian's main archive "
            "is in your sources)"
        )
    return found[-1]


def _data_tar_member(deb_file):
    """Opens the ``data.tar.*`` member of a Debian ``ar`` archive as a stream."""
    handle = open(deb_file, "rb")
    if handle.read(8) != b"!<arch>\n":
        handle.close()
        raise SourceUnavailable(f"{deb_file}: not a Debian package (bad ar magic)")
    while True:
        header = handle.read(60)
        if len(header) < 60:
            handle.close()
            raise SourceUnavailable(f"{deb_file}: no data.tar member")
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        if name.startswith("data.tar"):
            return handle, size
        handle.seek(size + (size % 2), os.SEEK_CUR)


def extract_members(deb_file, patterns, dest_dir):
    """Extracts the files of ``deb_file`` whose paths match any glob ``patterns``.

    Paths inside the package look like ``usr/share/...`` (no leading ``./``).

    Returns
    -------
    list of str
        The extracted files (under ``dest_dir``, keeping the package paths).
    """
    handle, _ = _data_tar_member(deb_file)
    written = []
    with handle, tarfile.open(fileobj=handle, mode="r|*") as tar:
        for member in tar:
            path = member.name.lstrip("./")
            if not member.isfile() or not any(fnmatch.fnmatch(path, p) for p in patterns):
                continue
            target = os.path.join(dest_dir, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst, length=1 << 22)
            os.replace(target + ".part", target)
            written.append(target)
    return written
