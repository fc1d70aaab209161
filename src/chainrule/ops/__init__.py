"""Every tensor op, by family. ``chainrule`` re-exports these; Tensor methods delegate here."""

from .compare import *  # noqa: F403
from .creation import *  # noqa: F403
from .creation import to  # noqa: F401
from .einsum import einsum  # noqa: F401
from .elementwise import *  # noqa: F403
from .index import *  # noqa: F403
from .inplace import *  # noqa: F403
from .linalg import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403
