"""Version checks shared by the compat fixes."""
from typing import Optional

from mmengine.utils import digit_version


def version_of(package: str) -> Optional[str]:
    """Installed version of ``package`` (None when it is missing)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def in_range(package: str, low: Optional[str], high: Optional[str]) -> bool:
    """``low <= version(package) <= high`` (a None bound is open)."""
    ver = version_of(package)
    if ver is None:
        return False
    v = digit_version(ver)
    return ((low is None or v >= digit_version(low))
            and (high is None or v <= digit_version(high)))
