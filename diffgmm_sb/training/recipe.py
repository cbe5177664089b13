"""What the training recipes (``train.py``, ``recipes/*/train.py``) run last.

Authors
 * diffgmm-sb developers 2026
"""

import torch
from speechbrain.utils.distributed import ddp_barrier, is_distributed_initialized


def leave_process_group():
    """Waits for every rank, then destroys the DDP process group (if any).

    A rank that exits with its gloo group still open can close the sockets
    under a peer that is still tearing down, and that peer aborts (SIGABRT)
    after the work is done. Recipes call this last; without DDP it does nothing.

    Example
    -------
    >>> leave_process_group()  # one process: nothing to leave
    """
    if is_distributed_initialized():
        ddp_barrier()
        torch.distributed.destroy_process_group()
