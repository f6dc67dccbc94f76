"""Run the notebooks as a reader would and store their outputs.

    python notebooks/refresh.py

runs notebooks/resnet.ipynb and notebooks/resnet_zh-CN.ipynb top to bottom, each in a
fresh Python kernel started in notebooks/, and writes each back with the outputs of that
run, so that a teacher sees them without running anything.  tests/test_notebook.py runs
them the same way and fails when a stored output is no longer what the code prints.
"""
import pathlib
import sys
import tempfile

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
NOTEBOOKS = (HERE / 'resnet.ipynb', HERE / 'resnet_zh-CN.ipynb')
CELL_TIMEOUT = 300   # seconds; the whole notebook takes a few


def execute(path):
    """The notebook at `path`, run from its own folder in a fresh kernel of this Python
    (not whichever `python3` kernel Jupyter would find first)."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as kernels:
        write_kernel_spec(pathlib.Path(kernels) / 'python3')
        kernel = KernelManager(kernel_name='python3',
                               kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        # No timings or dates in the cells' metadata: the same code stores the same file.
        NotebookClient(notebook, km=kernel, timeout=CELL_TIMEOUT, record_timing=False,
                       coalesce_streams=True,
                       resources={'metadata': {'path': str(path.parent)}}).execute()
    # The kernel's Python version is the machine's, not the notebook's.
    notebook.metadata['language_info'] = {'name': 'python'}
    return notebook


def main():
    for path in NOTEBOOKS:
        nbformat.write(execute(path), path)
        print(f'ran and stored {path.relative_to(HERE.parent)}')


if __name__ == '__main__':
    sys.exit(main())
