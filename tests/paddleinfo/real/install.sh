#!/usr/bin/env bash
# Creates (or brings up to date) the virtual environment .zoo-venv at the root of the
# repository, for tests/paddleinfo/real/real_models.py and the slow test
# tests/paddleinfo/test_real_models.py:
#   1. python3.11 -m venv .zoo-venv (kept if it is there);
#   2. the project's requirements.txt, with paddlepaddle at the version it was tested with
#      (the comment at the top of requirements.txt), and the project itself
#      (pip install -e . --no-deps);
#   3. the model-zoo libraries that install and import beside that Paddle, at the versions
#      that were tried, each with --no-deps and only the packages its models need: their
#      own pins would take numpy below 2 (paddleinfo needs numpy>=2.4, as requirements.txt).
# Run it again at any time: pip leaves what is already there as it is.  It downloads
# from PyPI; nothing the tests run downloads anything.
#
#   paddleclas 2.6.0   pins numpy==1.24.4, opencv-python==4.6.0.66 and faiss-cpu 1.8
#                      (numpy<2): given opencv-python 4.x and faiss-cpu built for numpy 2.
#   paddleseg 2.8.0    pins opencv-python<=4.6 (numpy<2): given the same opencv-python.
#   paddledet 2.6.0    pins numpy<1.24 and opencv-python<=4.6: given what ppdet.modeling
#                      imports (pycocotools, typeguard).  Its wheel ships no YAML config:
#                      detection.py writes out the two it builds.
#   paddlenlp 3.0.0b4  pins numpy<=1.26.4 and some twenty server and data packages: given
#                      only what paddlenlp.transformers imports.  aistudio-sdk 0.3 removed
#                      aistudio_sdk.hub.download, which it imports (0.2.6 has it); datasets 4
#                      needs huggingface_hub 1.x, whose API it no longer matches (<4, <0.30).
# Left out:
#   paddleocr          no wheel on PyPI (2.7.3 to 2.10.0, 3.x) ships ppocr/modeling, the
#                      code of its architectures: 2.x runs inference models it downloads,
#                      3.x goes through paddlex, which clones the repository to train.  So
#                      no PaddleOCR network can be built from an install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
venv="${ZOO_VENV:-$root/.zoo-venv}"   # ZOO_VENV: another place, to try the script
python="${PYTHON:-python3.11}"

paddle_version="$(sed -n 's/.*Tested with paddlepaddle \([0-9.]*\),.*/\1/p' requirements.txt)"
if [ -z "$paddle_version" ]; then
    echo "install.sh: cannot read the tested paddlepaddle version from requirements.txt" >&2
    exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv with $python"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --quiet)

# What the zoo's libraries must not move: Paddle, numpy and opencv at versions that work
# with numpy 2.
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
cat > "$constraints" <<EOF
paddlepaddle==$paddle_version
numpy>=2.4,<3
opencv-python>=4.10,<5
EOF

echo "installing paddlepaddle $paddle_version, requirements.txt and the project"
"${pip[@]}" -c "$constraints" "paddlepaddle==$paddle_version" -r requirements.txt
"${pip[@]}" --no-deps -e .

echo "installing paddleclas 2.6.0, paddleseg 2.8.0 and paddlenlp 3.0.0b4 (--no-deps)"
"${pip[@]}" --no-deps paddleclas==2.6.0 paddleseg==2.8.0 paddlenlp==3.0.0b4
# What their model code imports (ppcls.arch, paddleseg.models, paddlenlp.transformers).
"${pip[@]}" -c "$constraints" \
    "opencv-python>=4.10,<5" "faiss-cpu>=1.9" easydict "gast==0.3.3" prettytable ujson \
    PyYAML scipy visualdl filelock \
    colorlog colorama jieba seqeval fastapi regex jinja2 ml_dtypes omegaconf sentencepiece \
    "tokenizers>=0.21,<0.22" "aistudio-sdk==0.2.6" "datasets>=3,<4" \
    "huggingface_hub>=0.26,<0.30"

# paddledet 2.6.0 pins numpy<1.24 and opencv-python<=4.6 (numpy<2), and a dozen packages
# for data, tracking and metrics: given only what ppdet.modeling imports.
echo "installing paddledet 2.6.0 (--no-deps)"
"${pip[@]}" --no-deps paddledet==2.6.0
"${pip[@]}" -c "$constraints" pycocotools typeguard

echo "checking that each imports"
"$venv/bin/python" - <<'EOF'
import importlib
for module in ('paddle', 'paddleinfo', 'paddleclas.ppcls.arch.backbone', 'paddleseg.models',
               'paddlenlp.transformers', 'ppdet.modeling'):
    importlib.import_module(module)
import paddle
print(f'ok: paddlepaddle {paddle.__version__}')
EOF
echo "done: $venv"
