"""``spyx-convert``: inspect, validate, transform, run and translate NIR graphs.

Thin by design: each command parses its arguments and calls one library function. Every error a user can
cause is a :class:`spyx.SpyxError`; it is printed as one line on stderr and the command exits non-zero
(1: invalid input, 2: unreadable file, a read that gave up on a damaged file, an output folder that does
not exist, or bad usage, including an unknown pass, profile or target or options that do not fit together
(:class:`~spyx.errors.OptionError`); 130: Ctrl-C, nothing written). ``--debug`` shows the traceback instead.

Start-up stays under a tenth of a second for ``--version`` and ``--help`` and JAX is never imported by
``inspect``, ``validate``, ``convert`` and ``passes``: ``spyx`` loads lazily and each command imports its
library side when it runs (``tests/packaging/test_startup.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _bind_package() -> None:
    """Run as a script (``python cli/main.py``), make ``spyx_cli`` this folder, so that the modules beside
    this one are the ones imported (``spyx_cli`` is an install-time name; the editable install may map it to
    another checkout)."""
    import importlib.util

    init = Path(__file__).resolve().with_name("__init__.py")
    spec = importlib.util.spec_from_file_location("spyx_cli", init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["spyx_cli"] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    _bind_package()

from spyx.errors import OptionError, SpyxError  # noqa: E402  (after _bind_package)
from spyx_cli.output import emit, is_quiet, show, streams_of  # noqa: E402
from spyx_cli.progress import progress  # noqa: E402
from spyx_cli.streams import is_dash, streams  # noqa: E402

EPILOG_INSPECT = "Example: spyx-convert inspect model.nir --format json"


class _Group(click.Group):
    """Turns SpyxError into one readable line and an exit code; other failures into a short internal error."""

    def invoke(self, ctx: click.Context):
        with streams() as files:  # the temporary files behind `-`, removed however the command ends
            ctx.ensure_object(dict)["streams"] = files
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SpyxError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {show(str(e))}", err=True)
            ctx.exit(_exit_code(e))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:  # Ctrl-C: whatever was being written is not (spyx.io.atomic); 128 + SIGINT
            click.echo("interrupted (Ctrl-C)", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # e.g. `spyx-convert passes | head`: the reader left; nothing more to say
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as e:  # a bug in spyx: still one line, but say how to see more
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"internal error: {type(e).__name__}: {show(str(e))} (run with --debug for the traceback)",
                       err=True)
            ctx.exit(3)


def _stdin(path: Path | None, suffix: str | None = ".nir") -> Path | None:
    """``path``, or for ``-`` the file standard input was copied to (:mod:`spyx_cli.streams`)."""
    return streams_of().stdin(suffix) if is_dash(path) else path


def _exit_code(e: SpyxError) -> int:
    # an unknown pass/profile/target or options that do not fit together is bad usage, as click's own are
    return 2 if isinstance(e, OptionError) else e.exit_code


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the Python traceback on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No notes and no progress on stderr (errors still are).")
@click.version_option(package_name="spyx")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """spyx-convert: inspect, validate, transform, run and translate NIR graphs.

    \b
    Examples:
      spyx-convert demo
      spyx-convert inspect model.nir --format json
      spyx-convert validate model.nir
      spyx-convert convert in.nir out.nir --passes "inline,dce"
      spyx-convert draw model.nir -o graph.svg
      spyx-convert lower model.nir --profile snntorch
      spyx-convert run model.nir --input x.npy --output y.npy --dt 1e-4
      spyx-convert convert in.nir - --passes inline | spyx-convert inspect -

    \b
    '-' is standard input or output; notes go to stderr; exit 2 is bad usage (docs/cli.md).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["quiet"] = quiet


# Each command imports its library side when it runs: `spyx-convert --help` need not load JAX.
@main.command(epilog=EPILOG_INSPECT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dot"]), default="text", show_default=True)
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) instead of failing.")
def inspect(file: Path, fmt: str, repair: bool) -> None:
    """Show a graph: nodes with kinds and shapes, parameters, edges, cycles, file version."""
    from spyx.tools.inspect import inspect_command

    emit(inspect_command(_stdin(file), fmt=fmt, repair=repair))


@main.command(epilog="Example: spyx-convert validate model.nir --target xylo")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--repair", is_flag=True, help="Apply unambiguous repairs before validating.")
@click.option("--target", default=None,
              help="Also check the rules of a hardware target (xylo, xylo-audio3, xylo-imu, loihi2, speck, "
                   "spinnaker2) and print its resource table.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object with the problems, rule violations and resource table.")
def validate(file: Path, repair: bool, target: str | None, fmt: str) -> None:
    """Check a file: exit 0 if valid, 1 with one diagnostic per line if not, 2 if unreadable."""
    from spyx.tools.inspect import validate_command

    emit(validate_command(_stdin(file), repair=repair, target=target, fmt=fmt))


@main.command(epilog='Example: spyx-convert convert in.nir out.nir --passes "rescale{threshold=1},fuse,reorder"')
@click.argument("src", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passes", "pipeline", default="", help="Pass pipeline, e.g. 'inline,dce' or 'quantize-graph{bits=8}'.")
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) instead of failing.")
@click.option("--to-profile", default=None, help="Write parameters the way a peer's importer reads them.")
@click.option("--dt", type=float, default=None, help="Time step, for profiles and passes that need one.")
@click.option("--profile", default=None,
              help="Read the file as this exporter's model (as for run; auto detects): its fixups run before the "
                   "passes and the output records it, so that run reads it the same way.")
def convert(src: Path, dst: Path, pipeline: str, repair: bool, to_profile: str | None, dt: float | None,
            profile: str | None) -> None:
    """Read a NIR file, apply passes, write a NIR file (atomically; every parameter kept exactly)."""
    from spyx.tools.convert import convert_command

    out = streams_of().stdout(".nir") if is_dash(dst) else dst
    result = convert_command(_stdin(src), out, passes=pipeline, repair=repair, to_profile=to_profile, dt=dt,
                             profile=profile)
    streams_of().flush()
    emit(result, stdout_is_data=is_dash(dst))


@main.command(epilog="Example: spyx-convert lower model.nir --profile snntorch")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", default="nir", show_default=True,
              help="Import semantics: nir, snntorch, norse, sinabs, rockpool, spyx1, auto; options as name{k=v}.")
@click.option("--dt", type=float, default=None, help="Time step in seconds (needed for continuous-time graphs).")
@click.option("--method", type=click.Choice(["exact", "euler"]), default="exact", show_default=True)
@click.option("--delay-rounding", type=click.Choice(["error", "round", "floor", "ceil"]), default="error",
              show_default=True, help="What to do when a Delay is not a whole number of steps.")
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) instead of failing.")
def lower(file: Path, profile: str, dt: float | None, method: str, delay_rounding: str, repair: bool) -> None:
    """Print the graph the backend runs: the file through the lowering pipeline, in text form."""
    from spyx.tools.convert import lower_command

    emit(lower_command(_stdin(file), profile=profile, dt=dt, method=method, delay_rounding=delay_rounding,
                       repair=repair))


@main.command(name="passes", epilog="Example: spyx-convert passes")
def passes_cmd() -> None:
    """List every pass with a one-line description and its options."""
    from spyx.tools.convert import passes_command

    emit(passes_command())


@main.command(epilog="Example: spyx-convert run model.nir --input x.npy --output y.npy --dt 1e-4 --states s.npz")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Time-major input (T, B, *shape) .npy, .npz with one array per named input, or NIRData .h5.")
@click.option("--random-input", default=None, metavar="T,B[,P]",
              help="Instead of --input: seeded Bernoulli spikes, T steps, batch B, probability P (0.1).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write outputs (.npy; .npz when the graph has several outputs; .h5: NIRData).")
@click.option("--dt", type=float, default=None, help="Time step in seconds (needed for continuous-time graphs).")
@click.option("--method", type=click.Choice(["exact", "euler"]), default="exact", show_default=True)
@click.option("--profile", default=None,
              help="Import semantics: nir, snntorch, norse, sinabs, rockpool, spyx1, auto; options as name{k=v}. "
                   "Default: the profile the file records (convert/quantize --profile), else nir.")
@click.option("--schedule", type=click.Choice(["layer", "step"]), default="layer", show_default=True)
@click.option("--delay-rounding", type=click.Choice(["error", "round", "floor", "ceil"]), default="error",
              show_default=True, help="What to do when a Delay is not a whole number of steps.")
@click.option("--states", "states_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save every stateful node's membrane (and current) traces to this .npz (or NIRData .h5).")
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) instead of failing.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of --random-input and of --perturb.")
@click.option("--population", type=int, default=None, metavar="N",
              help="Run N members at once (vmap), split over the devices; outputs get a leading axis N.")
@click.option("--perturb", type=float, default=0.0, show_default=True, metavar="SIGMA",
              help="With --population: members 1..N-1 scale every float parameter by 1 + SIGMA*N(0,1).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The summary as text lines or as one JSON object.")
def run(model: Path, input_path: Path | None, random_input: str | None, output_path: Path | None,
        dt: float | None, method: str, profile: str | None, schedule: str, delay_rounding: str,
        states_path: Path | None, repair: bool, seed: int, population: int | None, perturb: float,
        fmt: str) -> None:
    """Run a NIR graph in JAX on time-major inputs and write its outputs.

    \b
    Population inference (docs/scaling.md):
      spyx-convert run model.nir --random-input 100,8 --population 64 --perturb 0.05 --output y.npy
    """
    if is_dash(model) and is_dash(input_path):
        raise click.UsageError("only one of MODEL and --input can be '-' (standard input)")
    model, input_path = _stdin(model), _stdin(input_path, None)
    out = streams_of().stdout(".npy") if is_dash(output_path) else output_path
    with progress(f"running {model.name} (loading JAX, compiling, running)", quiet=is_quiet()):
        from spyx.tools.run import run_command

        result = run_command(
            model, input_path=input_path, random_input=random_input, output_path=out, dt=dt,
            method=method, profile=profile, schedule=schedule, delay_rounding=delay_rounding,
            states_path=states_path, repair=repair, seed=seed, population=population, perturb=perturb,
        )
    streams_of().flush()
    emit(result, stdout_is_data=is_dash(output_path), as_json=fmt == "json")


def _picture_path(ctx, param, value: Path) -> Path:
    from spyx.draw import format_of

    try:
        format_of(value)
    except SpyxError as e:  # a usage error (exit 2), caught before the file is read
        raise click.BadParameter(str(e)) from None
    return value


@main.command(epilog="Example: spyx-convert draw model.nir -o graph.svg")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              callback=_picture_path,
              help="Picture to write: .svg, .png, .pdf (need Graphviz's dot) or .dot/.gv (the DOT text).")
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default=None,
              help="Top to bottom or left to right (default: whichever is closer to 4:3).")
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) before drawing.")
def draw(file: Path, output_path: Path, rankdir: str | None, repair: bool) -> None:
    """Draw a graph, coloured by kind; a broken file is drawn with the fault in red (docs/cli.md)."""
    from spyx.draw import draw as draw_graph

    try:
        picture = draw_graph(file, output_path, rankdir=rankdir, repair=repair)
    except ImportError as e:  # the draw extra is missing: say how to get it, as for any other error
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    click.echo(f"{output_path}: {len(picture.categories)} nodes, "
               f"{'top to bottom' if picture.rankdir == 'TB' else 'left to right'}")
    for p in picture.problems[:1]:
        click.echo(f"problem (drawn in red): {p}" + (f" (and {len(picture.problems) - 1} more)"
                                                     if len(picture.problems) > 1 else ""))


@main.command(epilog="Example: spyx-convert demo --out demo/")
@click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path), default=Path("spyx-demo"),
              show_default=True, help="Folder for the example graph and its outputs.")
def demo(outdir: Path) -> None:
    """The main job on a built-in example: write a recurrent SNN as NIR, inspect it, run it in JAX."""
    with progress("running the demo (loading JAX, compiling, running)", quiet=is_quiet()):
        from spyx.tools.examples import demo_command

        result = demo_command(outdir)
    emit(result)


def _register_optional_commands() -> None:
    """Commands whose library side is optional (quantization) register themselves here."""
    try:
        from spyx_cli.quantize import quantize
    except ImportError:
        return
    main.add_command(quantize)


_register_optional_commands()

if __name__ == "__main__":
    main()
