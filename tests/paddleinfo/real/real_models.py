"""paddleinfo on real architectures: every paddle.vision model, and those of PaddleClas,
PaddleSeg, PaddleNLP and PaddleDetection that install beside Paddle
(tests/paddleinfo/real/install.sh), built with random weights (nothing is downloaded).

    .zoo-venv/bin/python tests/paddleinfo/real/real_models.py [--only NAME...] [--out FILE]
                                                             [--list] [--timeout SECONDS]

For each model, two child processes, each with a time bound (a hang is recorded as a
hang), two at a time:
  built:   builds the model in the dynamic graph, sums the numel of model.parameters(),
           counts the multiply-adds of one real eager forward pass without paddleinfo
           (counting.OperatorCount) and what paddle.flops() would report
           (counting.paddle_flops), then runs paddleinfo.summary on the built model;
  factory: runs paddleinfo.summary on a factory (lambda) of it, which paddleinfo builds
           in Paddle's static graph, as the `paddleinfo` command does.
Then it writes a markdown table -- paddleinfo's params and MACs against those, and the
FLOPs the library's model zoo publishes (published.py) where it does -- to --out (the
whole file or nothing) or to stdout.  The verdicts are computed, never written in.
"""
import argparse
import concurrent.futures
import importlib.metadata
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = '@@paddleinfo-real@@ '
TIMEOUT = 300
WIDTH = 100
# Paddle's notice at import that ccache is missing is about its own setup.
warnings.filterwarnings('ignore', message='No ccache found')


@dataclass
class Spec:
    name: str
    library: str            # the distribution: paddlepaddle, paddleclas, paddleseg, paddlenlp,
                            # paddledet
    build: str              # the Python expression that builds it (in the child)
    inputs: str = 'image'   # image, ids (int64 token ids) or t5 (ids and decoder ids)
    shape: tuple[int, ...] = (1, 3, 224, 224)
    published: Any = None   # (FLOPs G, params M, source)
    note: str = ''          # a stated convention where the published figure differs
    imports: list[str] = field(default_factory=list)
    deployable: bool = False    # its layers fuse for deployment (convert_to_deploy): counted so too


# --- the architectures --------------------------------------------------------------

def vision_specs() -> list[Spec]:
    """Every network paddle.vision.models builds (its functions, the vgg*_bn, LeNet)."""
    from paddle.vision import models
    names = [name for name in models.__all__
             if callable(getattr(models, name)) and name[0].islower()]
    names += [f'{name}_bn' for name in names if name.startswith('vgg')] + ['LeNet']
    try:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
        from paddleinfo.torchvision_published import DIFFERENCE, PUBLISHED
    except ImportError:
        PUBLISHED, DIFFERENCE = {}, {}
    specs = []
    for name in names:
        build = (f'models.{name[:-3]}(batch_norm=True)' if name.endswith('_bn')
                 else f'models.{name}()')
        shape = {'inception_v3': (1, 3, 299, 299), 'LeNet': (1, 1, 28, 28)}.get(
            name, (1, 3, 224, 224))
        known = PUBLISHED.get(name)
        published = None if not known else (
            known['gflops'], known['params'] / 1e6,
            f"torchvision's _ops: {known['source']} (paddleinfo/torchvision_published.py)")
        specs.append(Spec(name, 'paddlepaddle', build, shape=shape, published=published,
                          note=DIFFERENCE.get(name, ''),
                          imports=['from paddle.vision import models']))
    return specs


CLAS = '''ResNet50 ResNet50_vd SE_ResNet50_vd ResNeXt50_32x4d Res2Net50_26w_4s DPN68
DenseNet121 HRNet_W18_C GoogLeNet InceptionV3 EfficientNetB0 ResNeSt50 RegNetX_4GF RepVGG_A0
MixNet_S ReXNet_1_0 DLA34 HarDNet68 PeleeNet CSPDarkNet53 AlexNet SqueezeNet1_0 VGG16
MobileNetV1 MobileNetV2 MobileNetV3_large_x1_0 MobileNetV3_small_x1_0 ShuffleNetV2_x1_0
GhostNet_x1_0 ESNet_x1_0 PPLCNet_x1_0 PPLCNetV2_base PPHGNet_tiny PPHGNetV2_B0 ConvNeXt_tiny
SwinTransformer_tiny_patch4_window7_224 SwinTransformerV2_tiny_patch4_window8_256
CSWinTransformer_tiny_224 ViT_base_patch16_224 DeiT_tiny_patch16_224 PVT_V2_B0 LeViT_128S
TNT_small NextViT_small_224 UniFormer_small VAN_B0 pcpvt_small alt_gvt_small MobileViT_S
MobileViTV2_x1_0 StarNet_S1 FasterNet_T0 MobileNetV4_conv_small DSNet_tiny'''.split()


# Conventions of a published figure that the counts here do not reproduce by themselves.
CLAS_NOTES = {
    'RepVGG_A0': 'the published figure is the re-parameterised (deployed) network, one 3x3 '
                 'conv per block; built for training, each block also has its 1x1 branch, '
                 '1/9 of the 3x3\'s MACs more (1.36 G x 10/9 = 1.51 G)',
}


def clas_specs() -> list[Spec]:
    from published import PADDLECLAS
    specs = []
    for name in CLAS:
        # Their own input, where it is not 224x224 (PaddleClas's configs of them).
        side = {'InceptionV3': 299, 'SwinTransformerV2_tiny_patch4_window8_256': 256,
                'MobileViTV2_x1_0': 256, 'MobileViT_S': 256}.get(name, 224)
        published = None
        if name in PADDLECLAS:
            flops, params, line = PADDLECLAS[name]
            published = (flops, params, 'PaddleClas docs/zh_CN/models/ImageNet1k/README.md '
                         f'line {line} (paddle.flops, Paddle 2.2)')
        specs.append(Spec(name, 'paddleclas', f'backbone.{name}(pretrained=False)',
                          shape=(1, 3, side, side), published=published,
                          note=CLAS_NOTES.get(name, ''),
                          imports=['from paddleclas.ppcls.arch import backbone']))
    return specs


SEG = {
    'PPLiteSeg_STDC1': 'models.PPLiteSeg(num_classes=19, backbone=models.backbones.STDC1())',
    'SegFormer_B0': 'models.SegFormer(num_classes=19, '
                    'backbone=models.backbones.MixVisionTransformer_B0(), embedding_dim=256)',
    'OCRNet_HRNetW18': 'models.OCRNet(num_classes=19, backbone=models.backbones.HRNet_W18(), '
                       'backbone_indices=[0])',
    'DeepLabV3P_R50': 'models.DeepLabV3P(num_classes=19, backbone=models.backbones.ResNet50_vd('
                      'output_stride=8, multi_grid=(1, 2, 4)), backbone_indices=(0, 3))',
    'UNet': 'models.UNet(num_classes=19)',
    'BiSeNetV2': 'models.BiSeNetV2(num_classes=19)',
    'FCN_HRNetW18': 'models.FCN(num_classes=19, backbone=models.backbones.HRNet_W18(), '
                    'backbone_indices=[-1])',
}


def seg_specs() -> list[Spec]:
    return [Spec(name, 'paddleseg', build, shape=(1, 3, 512, 512),
                 imports=['from paddleseg import models'])
            for name, build in SEG.items()]


SMALL = 'vocab_size=1000, hidden_size=128, num_attention_heads=4, intermediate_size=256'
NLP = {
    'BERT': f't.BertModel(t.BertConfig({SMALL}, num_hidden_layers=2))',
    'ERNIE': f't.ErnieModel(t.ErnieConfig({SMALL}, num_hidden_layers=2))',
    'RoBERTa': f't.RobertaModel(t.RobertaConfig({SMALL}, num_hidden_layers=2))',
    'ALBERT': f't.AlbertModel(t.AlbertConfig({SMALL}, embedding_size=64, '
              f'num_hidden_layers=2))',
    'GPT': f't.GPTModel(t.GPTConfig({SMALL}, num_hidden_layers=2))',
    'LLaMA': f't.LlamaModel(t.LlamaConfig({SMALL}, num_hidden_layers=2, '
             f'num_key_value_heads=4))',
    'Qwen2': f't.Qwen2Model(t.Qwen2Config({SMALL}, num_hidden_layers=2, '
             f'num_key_value_heads=2))',
    'T5': 't.T5Model(t.T5Config(vocab_size=1000, d_model=128, d_kv=32, d_ff=256, '
          'num_layers=2, num_decoder_layers=2, num_heads=4))',
}


def nlp_specs() -> list[Spec]:
    return [Spec(name, 'paddlenlp', build, inputs='t5' if name == 'T5' else 'ids',
                 shape=(1, 16), imports=['import paddlenlp.transformers as t'])
            for name, build in NLP.items()]


# (the function of detection.py, the input's side)
DET = {'PP-YOLOE_s': ('ppyoloe_s', 640), 'PicoDet_s': ('picodet_s', 320)}


def det_specs() -> list[Spec]:
    from published import PADDLEDET
    return [Spec(name, 'paddledet', f'detection.{function}()', shape=(1, 3, side, side),
                 published=PADDLEDET[name], deployable=name == 'PP-YOLOE_s',
                 imports=['import detection'])
            for name, (function, side) in DET.items()]


def installed(library: str) -> str | None:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return None


def all_specs() -> list[Spec]:
    specs = vision_specs() + clas_specs() + seg_specs() + nlp_specs() + det_specs()
    return [spec for spec in specs if installed(spec.library)]


# --- the child ----------------------------------------------------------------------

def emit(**values: Any) -> None:
    print(MARK + json.dumps(values), flush=True)


def child(spec: Spec, mode: str) -> None:
    import paddle
    sys.path.insert(0, HERE)
    from counting import OperatorCount, paddle_flops

    import paddleinfo
    namespace: dict[str, Any] = {}
    for line in spec.imports:
        exec(line, namespace)

    def build() -> Any:
        return eval(spec.build, namespace)

    def inputs() -> dict[str, Any]:
        if spec.inputs == 'image':
            return {'input_size': spec.shape}
        ids = paddle.randint(1, 999, list(spec.shape), dtype='int64')
        if spec.inputs == 't5':
            return {'input': {'input_ids': ids, 'decoder_input_ids': ids}}
        return {'input_size': spec.shape, 'dtypes': 'int64'}

    def run_paddleinfo(model: Any) -> None:
        start = time.perf_counter()
        try:
            result = paddleinfo.summary(model, verbose=0, **inputs())
        except BaseException as error:  # noqa: BLE001 -- recorded, whatever it is
            line = next((text for text in str(error).splitlines() if text.strip()), '')
            emit(stage=mode, error=f'{type(error).__name__}: {line.strip()}'[:400],
                 seconds=time.perf_counter() - start)
            return
        uncounted = getattr(result.profile, 'uncounted_ops', {}) or {}
        emit(stage=mode, params=result.total_params, macs=result.macs,
             eager=bool(result.eager), uncounted=sorted(uncounted),
             seconds=time.perf_counter() - start)

    paddle.seed(0)
    if mode == 'factory':
        run_paddleinfo(build)
        return
    model = build()
    model.eval()
    emit(stage='parameters', params=sum(int(math.prod(p.shape)) for p in model.parameters()))
    start = time.perf_counter()
    given = inputs()
    if 'input' in given:
        args, kwargs = [], given['input']
    else:
        dtype = given.get('dtypes', 'float32')
        args = [paddle.rand(list(spec.shape)) if dtype == 'float32'
                else paddle.randint(1, 999, list(spec.shape), dtype=dtype)]
        kwargs = {}
    try:
        with paddle.no_grad(), OperatorCount() as count, paddle_flops(model) as flops:
            model(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 -- recorded; paddleinfo still runs
        emit(stage='count_error', error=f'{type(error).__name__}: {error}'[:400])
    else:
        emit(stage='count', macs=count.macs, flops=flops[0], no_rule=sorted(count.no_rule),
             seconds=time.perf_counter() - start)
    run_paddleinfo(model)
    if spec.deployable:     # the network as the library deploys it, and publishes it
        for layer in model.sublayers():
            if hasattr(layer, 'convert_to_deploy'):
                layer.convert_to_deploy()
        deployed = paddleinfo.summary(model, verbose=0, **inputs())
        emit(stage='deployed', params=deployed.total_params, macs=deployed.macs,
             trainable=deployed.trainable_params)


# --- the parent ---------------------------------------------------------------------

def run_child(spec: Spec, mode: str, timeout: float) -> dict[str, Any]:
    """{stage: values} of a child, with 'hang' or 'exit' where it did not finish."""
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', PYTHONWARNINGS='ignore')
    command = [sys.executable, os.path.abspath(__file__), '--child', spec.name, mode]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        status: dict[str, Any] = {}
        if process.returncode:
            tail = [line for line in err.splitlines() if line.strip()][-1:] or ['']
            status['exit'] = f'exit {process.returncode}: {tail[0].strip()[:300]}'
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, err = process.communicate()
        status = {'hang': f'no result in {timeout:.0f} s'}
    results: dict[str, Any] = {'seconds': time.perf_counter() - start, **status}
    for line in out.splitlines():
        if line.startswith(MARK):
            values = json.loads(line[len(MARK):])
            results[values.pop('stage')] = values
    return results


SHORTER = (('CSWinTransformer', 'CSWin'), ('SwinTransformer', 'Swin'), ('_patch', '_p'),
           ('_window', '_w'))


def shown(name: str) -> str:
    """The name in the table: a name of more than 24 characters is abbreviated
    (SwinTransformerV2_tiny_patch4_window8_256 is SwinV2_tiny_p4_w8_256)."""
    for long, abbreviation in SHORTER if len(name) > 24 else ():
        name = name.replace(long, abbreviation)
    return name


def short(number: float | None, unit: float = 1e9, digits: int = 3) -> str:
    return '-' if number is None else f'{number / unit:.{digits}f}'


def near(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(abs(b), 1e-12)


def judge(spec: Spec, result: dict[str, Any]) -> tuple[str, list[str]]:
    """(the verdict, the notes) of one model's results."""
    notes: list[str] = []
    problems: list[str] = []
    truth = result.get('parameters', {}).get('params')
    count = result.get('count', {})
    for mode in ('built', 'factory'):
        where = result.get(f'{mode}_run', {})
        got = result.get(mode)
        if got is None or 'error' in got:
            what = ('hangs' if 'hang' in where else 'fails') if got is None else 'fails'
            reason = (got or {}).get('error') or where.get('hang') or where.get('exit') or '?'
            if mode == 'built' and truth is None:
                problems.append('build fails')
                notes.append(f'the model does not build or run: {reason}')
                continue
            problems.append(f'{mode} {what}')
            notes.append(f'paddleinfo on the {mode} model {what}: {reason}')
            continue
        if truth is not None and got['params'] != truth:
            problems.append(f'{mode} params')
            notes.append(f'{mode}: paddleinfo params {got["params"]:,} != model.parameters() '
                         f'{truth:,}')
        if count and got['macs'] != count['macs']:
            problems.append(f'{mode} MACs')
            notes.append(f'{mode}: paddleinfo MACs {got["macs"]:,} != independent count '
                         f'{count["macs"]:,} ({got["macs"] - count["macs"]:+,})'
                         + (' [eager fallback]' if got.get('eager') else ''))
        if got.get('uncounted'):
            notes.append(f'{mode}: paddleinfo names uncounted operators: '
                         f'{", ".join(got["uncounted"])}')
    if 'count_error' in result:
        problems.append('forward fails')
        notes.append(f'its eager forward pass fails: {result["count_error"]["error"]}')
    if count.get('no_rule'):
        notes.append(f'the independent count has no rule for: {", ".join(count["no_rule"])}')
    if 'build fails' in problems or 'forward fails' in problems:
        verdict = 'the model fails'     # its own error, in a plain eager pass too
    else:
        verdict = 'ok' if not problems else '; '.join(problems)
    if spec.published and count:
        notes.append(explain(spec, count, result))
    elif spec.note:
        notes.append(spec.note)
    return verdict, notes


def explain(spec: Spec, count: dict[str, Any], result: dict[str, Any]) -> str:
    """Why the published figure is what it is, in terms of the counts made here."""
    flops, params, source = spec.published
    macs, paddle_flops = count['macs'] / 1e9, count['flops'] / 1e9
    said = f'published {flops:g} G ({source})'
    if spec.library == 'paddledet':
        deployed = result.get('deployed')
        if deployed:
            macs = deployed['macs'] / 1e9
            said += (f': deployed (convert_to_deploy), {deployed["trainable"] / 1e6:.2f} M '
                     f'trainable params, MACs {macs:.3f} G')
        doubled = 2 * macs
        if near(doubled, flops, 0.01):
            return (f'{said}: two FLOPs per multiply-add, 2 x MACs = {doubled:.3f} G, within '
                    f'1%')
        return f'{said}: NOT explained: 2 x MACs = {doubled:.3f} G'
    if spec.library == 'paddlepaddle':
        if round(macs, 3) == round(flops, 3):
            return f'{said}: equal to the MACs to 3 decimals'
        return (f'{said}: MACs {macs:.3f} G; a different network from torchvision\'s: '
                f'{spec.note or "unexplained"}')
    digits = max(len(f'{flops:g}'.split('.')[-1]) if '.' in f'{flops:g}' else 0, 1)
    if near(paddle_flops, flops, 0.01) or round(paddle_flops, digits) == round(flops, digits):
        extra = paddle_flops - macs
        return (f'{said}: paddle.flops\' convention, {paddle_flops:.3f} G by its rules here '
                f'(MACs {macs:.3f} G {extra:+.3f} G: conv bias, BatchNorm, pools counted; '
                f'products of functional calls, e.g. attention, left out)')
    if near(macs, flops, 0.01):
        return f'{said}: equal to the MACs ({macs:.3f} G) within 1%'
    counts = (f'MACs {macs:.3f} G, paddle.flops\' rules {paddle_flops:.3f} G '
              f'({flops / max(paddle_flops, 1e-12):.2f}x)')
    if spec.note:
        return f'{said}: {counts}: {spec.note}'
    return f'{said}: NOT explained: {counts}'


def table(specs: list[Spec], results: dict[str, dict[str, Any]]) -> str:
    import paddle
    versions = ', '.join(f'{library} {installed(library)}' for library in
                         ('paddlepaddle', 'paddleclas', 'paddleseg', 'paddlenlp', 'paddledet')
                         if installed(library))
    intro = ('Params and MACs are paddleinfo\'s, on the built model and on a factory; "=" '
             'where they equal the sum of numel of model.parameters() and the independent '
             'count of an eager pass.  Published: the library\'s model zoo (notes).  Long '
             'names are cut: Swin is SwinTransformer, p patch, w window.')
    lines = (textwrap.wrap(f'paddleinfo on real architectures, random weights: {versions}; '
                           f'Python {sys.version.split()[0]}, {paddle.device.get_device()}.',
                           WIDTH) + [''] + textwrap.wrap(intro, WIDTH) + [''] +
             ['| model | library | input | params M | MACs G | indep. | publ. G | verdict |',
              '|---|---|---|---|---|---|---|---|'])
    footnotes = []
    for spec in specs:
        result = results[spec.name]
        verdict, notes = judge(spec, result)
        truth = result.get('parameters', {}).get('params')
        built, factory = result.get('built') or {}, result.get('factory') or {}
        got = [item for item in (built, factory) if 'params' in item]
        params = short(truth, 1e6, 2) if truth is not None else '-'
        if got and truth is not None and all(item['params'] == truth for item in got):
            params += ' ='
        macs = sorted({item['macs'] for item in got})
        count = result.get('count', {}).get('macs')
        macs_text = '/'.join(short(value) for value in macs) or '-'
        independent = ('=' if macs and count is not None and macs == [count]
                       else short(count))
        if spec.inputs == 'image':
            shape = 'x'.join(map(str, spec.shape[1:]))
        else:
            shape = f'{spec.shape[1]} ids' + (' x2' if spec.inputs == 't5' else '')
        published = f'{spec.published[0]:.3f}' if spec.published else '-'
        library = spec.library.replace('paddlepaddle', 'paddle.vision')
        lines.append(f'| {shown(spec.name)} | {library} | {shape} | {params} | {macs_text} | '
                     f'{independent} | {published} | {verdict} |')
        if notes:
            footnotes.append((shown(spec.name), notes))
    lines += ['', 'Notes:', '']
    for name, notes in footnotes:
        for note in notes:
            lines += textwrap.wrap(f'- {name}: {note}', WIDTH, subsequent_indent='  ',
                                   break_on_hyphens=False)
    return '\n'.join(lines) + '\n'


def write(text: str, path: str) -> None:
    """The whole file or nothing: a temporary file beside it, then os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix='.real_models.', suffix='.tmp')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', metavar='NAME', help='these models only')
    parser.add_argument('--out', help='write the markdown table here (default: stdout)')
    parser.add_argument('--list', action='store_true', help='list the models and exit')
    parser.add_argument('--timeout', type=float, default=TIMEOUT,
                        help=f'seconds each child may take (default {TIMEOUT})')
    parser.add_argument('--jobs', type=int, default=2, help='children at a time (default 2)')
    parser.add_argument('--merge', nargs='+', metavar='JSON',
                        help='run nothing: the table of the results these earlier runs wrote '
                             '(FILE.json beside --out FILE), a later file\'s model replacing '
                             'an earlier one\'s')
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, HERE)
    specs = all_specs()
    by_name = {spec.name: spec for spec in specs}
    if args.child:
        child(by_name[args.child[0]], args.child[1])
        return 0
    if args.list:
        for spec in specs:
            print(f'{spec.name}  ({spec.library})')
        return 0
    if args.timeout <= 0 or args.jobs < 1:
        print('real_models.py: --timeout and --jobs must be positive', file=sys.stderr)
        return 2
    if args.only:
        unknown = [name for name in args.only if name not in by_name]
        if unknown:
            print(f'real_models.py: no model named {", ".join(unknown)} (see --list)',
                  file=sys.stderr)
            return 2
        specs = [by_name[name] for name in dict.fromkeys(args.only)]
    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        print(f'real_models.py: --out {args.out}: its folder does not exist', file=sys.stderr)
        return 2
    if args.merge:
        merged: dict[str, dict[str, Any]] = {}
        for path in args.merge:
            try:
                with open(path, encoding='utf-8') as file:
                    merged.update(json.load(file))
            except (OSError, ValueError) as error:
                print(f'real_models.py: --merge {path}: {error}', file=sys.stderr)
                return 2
        specs = [spec for spec in specs if spec.name in merged]
        text = table(specs, merged)
        if args.out:
            write(text, args.out)
        else:
            sys.stdout.write(text)
        return 0
    results: dict[str, dict[str, Any]] = {spec.name: {} for spec in specs}
    jobs = [(spec, mode) for spec in specs for mode in ('built', 'factory')]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_child, spec, mode, args.timeout): (spec, mode)
                   for spec, mode in jobs}
        for future in concurrent.futures.as_completed(futures):
            spec, mode = futures[future]
            got = future.result()
            results[spec.name][f'{mode}_run'] = {key: got.pop(key) for key in
                                                 ('seconds', 'hang', 'exit') if key in got}
            results[spec.name].update(got)
            print(f'{spec.name} {mode}: {json.dumps(got)[:WIDTH - 20]}', file=sys.stderr,
                  flush=True)
    text = table(specs, results)
    if args.out:
        write(text, args.out)
        write(json.dumps(results, indent=1) + '\n', os.path.splitext(args.out)[0] + '.json')
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
