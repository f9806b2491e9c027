#!/usr/bin/env bash
# Build and test one flavor's images with docker, as CI does.
#
#   ./build-local.sh [-t TARGET] [-T TAG] [-B] [-N] FLAVOR
#   ./build-local.sh -h | --help
#
#   -t TARGET  jupyter | cell-build | cell-runtime | cell-test | cell-all | all (default: all)
#              cell-all is cell-build, cell-runtime and the CI-only cell-test image:
#              a sample cell built by NaaVRE-containerizer-service's own Dockerfile
#              (scripts/cell_test.py downloads it; needs python3 with Jinja2)
#   -T TAG     image tag (default: local)
#   -B         do not build jupyter, cell-build, cell-runtime: test the existing ones
#              (CI builds them with buildx); cell-test is always built from them
#   -N         build only; skip the tests
#   -h, --help print this help
#
# Images are named <registry>/<image_prefix><flavor>-<target>:<tag>, with both
# values read from naavre-flavors.yml. Targets the flavor's flavor_config.yaml
# turns off (build_jupyter, build_cell_base) are skipped. The tests run
# flavors/<flavor>/tests/tests.sh in the jupyter and cell-test images, and check
# that the jupyter image lists every pinned NaaVRE extension as "enabled OK".
set -euo pipefail

cd "$(dirname "$0")"

# This file's opening comment, which says how to call it (the cd above made $0's folder here).
usage() {
  sed -n '2,/^set /s/^# \{0,1\}//p' "$(basename "$0")"
}

# A call this script does not take: the usage on stderr, exit 2.
misuse() {
  usage >&2
  exit 2
}

# The value of a top-level `key: value` line of a YAML file, without quotes.
yaml_value() {
  sed -n -E "s/^$2:[[:space:]]*[\"']?([^\"'#]*[^\"'#[:space:]])?[\"']?[[:space:]]*(#.*)?\$/\\1/p" "$1" | head -n 1
}

target=all
tag=local
build=true
run_tests=true
# "-:" lets getopts read --help, as option "-" with the argument "help".
while getopts "t:T:BNh-:" option; do
  case "$option" in
    t) target=$OPTARG ;;
    T) tag=$OPTARG ;;
    B) build=false ;;
    N) run_tests=false ;;
    h)
      usage
      exit 0
      ;;
    -)
      if [[ $OPTARG != help ]]; then
        echo "build-local.sh: error: unknown option --$OPTARG" >&2
        misuse
      fi
      usage
      exit 0
      ;;
    *) misuse ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 1 ]] || misuse
flavor=$1

config="flavors/$flavor/flavor_config.yaml"
if [[ ! -f $config ]]; then
  echo "build-local.sh: error: $config: no such flavor" >&2
  exit 2
fi
case "$target" in
  jupyter) targets=(jupyter) ;;
  cell-build | cell-runtime | cell-test) targets=("$target") ;;
  cell-all) targets=(cell-build cell-runtime cell-test) ;;
  all) targets=(jupyter cell-build cell-runtime cell-test) ;;
  *)
    echo "build-local.sh: error: -t: must be jupyter, cell-build, cell-runtime, cell-test, cell-all or all (got '$target')" >&2
    exit 2
    ;;
esac

registry=$(yaml_value naavre-flavors.yml registry)
prefix=$(yaml_value naavre-flavors.yml image_prefix)
if [[ -z $registry ]]; then
  echo "build-local.sh: error: naavre-flavors.yml: registry is missing" >&2
  exit 2
fi
image() { echo "$registry/$prefix$flavor-$1:$tag"; }

enabled() {
  case "$1" in
    jupyter) [[ $(yaml_value "$config" build_jupyter) == true ]] ;;
    *) [[ $(yaml_value "$config" build_cell_base) == true ]] ;;
  esac
}

# flavors/<flavor>/<target>.Dockerfile replaces docker/<target>.Dockerfile.
dockerfile() {
  if [[ -f flavors/$flavor/$1.Dockerfile ]]; then
    echo "flavors/$flavor/$1.Dockerfile"
  else
    echo "docker/$1.Dockerfile"
  fi
}

build_image() {
  if [[ $1 == cell-test ]]; then
    build_cell_test
    return
  fi
  echo "== build $(image "$1") from $(dockerfile "$1")"
  docker build . --file "$(dockerfile "$1")" --tag "$(image "$1")" \
    --build-arg "CONDA_ENV_FILE=flavors/$flavor/environment.yaml"
}

# The cell-test image is what the containerizer builds for a cell: its Dockerfile
# and environment.yaml, unchanged, in a folder of their own (its build context).
build_cell_test() {
  local cell
  cell=$(mktemp -d)
  python3 scripts/cell_test.py --build-image "$(image cell-build)" \
    --runtime-image "$(image cell-runtime)" --output "$cell"
  echo "== build $(image cell-test) from the containerizer's Dockerfile (scripts/cell_test.py)"
  docker build "$cell" --tag "$(image cell-test)"
  rm -rf "$cell"
}

run_flavor_tests() {
  echo "== flavors/$flavor/tests/tests.sh in $(image "$1")"
  docker run --rm --volume "$PWD/flavors/$flavor/tests:/tmp/flavor-tests:ro" \
    "$(image "$1")" bash /tmp/flavor-tests/tests.sh
}

# Every NaaVRE-<x>-jupyterlab==<version> pin must show as
# "@naavre/<x>-jupyterlab v<version> enabled OK".
check_extensions() {
  local listing pin name version missing=0
  listing=$(docker run --rm "$(image jupyter)" jupyter labextension list 2>&1)
  while read -r pin; do
    name=$(sed -E 's/^naavre-(.*)-jupyterlab==.*$/\1/I' <<<"$pin" | tr '[:upper:]' '[:lower:]')
    version=${pin##*==}
    if grep -Eq "@naavre/$name-jupyterlab v${version//./\\.} enabled +OK" <<<"$listing"; then
      echo "ok: @naavre/$name-jupyterlab v$version enabled OK"
    else
      echo "build-local.sh: error: $(image jupyter): @naavre/$name-jupyterlab v$version is not enabled OK" >&2
      missing=1
    fi
  done < <(grep -Eio '^naavre-[a-z0-9-]+-jupyterlab==[^[:space:];#]+' docker/jupyter.requirements.txt)
  if [[ $missing -ne 0 ]]; then
    echo "$listing" >&2
    return 1
  fi
}

# Every target builds or runs images: without docker, say so at once, in one line.
if ! command -v docker >/dev/null 2>&1; then
  echo "build-local.sh: error: docker is not installed (not on PATH): it builds and runs the images" >&2
  exit 127
fi

for t in "${targets[@]}"; do
  if ! enabled "$t"; then
    echo "== skip $t: turned off in $config"
    continue
  fi
  if $build || [[ $t == cell-test ]]; then
    build_image "$t"
  fi
  if $run_tests; then
    case "$t" in
      jupyter)
        run_flavor_tests jupyter
        check_extensions
        ;;
      cell-test) run_flavor_tests cell-test ;;
    esac
  fi
done
