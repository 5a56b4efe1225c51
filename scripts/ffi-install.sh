#!/usr/bin/env bash
# Builds and installs the C library the way cargo-c's `cargo cinstall` would, without
# needing cargo-c (its install compiles all of cargo: too slow for CI):
#
#   <libdir>/libqovery_redeploy.so.<version>        the shared library, soname libqovery_redeploy.so.<sover>
#   <libdir>/libqovery_redeploy.so.<sover>, .so     symlinks
#   <libdir>/libqovery_redeploy.a                   the static library
#   <includedir>/qovery_redeploy.h                  the header (include/, checked in)
#   <libdir>/pkgconfig/qovery_redeploy.pc           pkg-config --cflags --libs qovery_redeploy
#   <libdir>/pkgconfig/qovery_redeploy-static.pc    the same, linking the archive (a static link
#                                                   that stays static although the .so sits beside it)
#   <libdir>/cmake/qovery_redeploy/                 find_package(qovery_redeploy) with imported targets
#                                                   qovery_redeploy::qovery_redeploy (shared) and
#                                                   qovery_redeploy::qovery_redeploy_static
#
# <sover> is <major>, or 0.<minor> before 1.0 (same rule as cargo-c and ffi/build.rs).
#
# usage: scripts/ffi-install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
#                               [--destdir DIR] [--release] [--no-build] [--from DIR]
#                               [--relocatable]
#   --prefix      install prefix (default /usr/local)
#   --libdir      default <prefix>/lib;  --includedir  default <prefix>/include
#   --destdir     stage under DIR (packaging): files go to DIR/<prefix>, paths inside them
#                 still say <prefix>
#   --release     install the release build (default: the debug build)
#   --no-build    install what target/ already holds
#   --from DIR    install the libraries built in DIR (e.g. a cross build's
#                 target/<triple>/release), implies --no-build
#   --relocatable the .pc files find the prefix from their own place (\${pcfiledir}), so the
#                 tree can be unpacked anywhere (the release tarball)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local libdir= includedir= destdir= profile=debug build=1 from= relocatable=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --libdir) libdir=$2; shift 2 ;;
        --includedir) includedir=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --release) profile=release; shift ;;
        --no-build) build=0; shift ;;
        --from) from=$2; build=0; shift 2 ;;
        --relocatable) relocatable=1; shift ;;
        -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
        *) echo "ffi-install: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $prefix == /* ]] || { echo "ffi-install: --prefix must be absolute" >&2; exit 2; }
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}

cd "$root"
if [[ $build == 1 ]]; then
    if [[ $profile == release ]]; then
        cargo build --locked --quiet -p qovery-redeploy-ffi --release
    else
        cargo build --locked --quiet -p qovery-redeploy-ffi
    fi
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
built=${from:-$target_dir/$profile}

version=$(cargo pkgid --quiet -p qovery-redeploy-ffi | sed 's/.*[@#]//')
IFS=. read -r major minor _patch <<<"$version"
if [[ $major == 0 ]]; then sover=0.$minor; else sover=$major; fi
name=libqovery_redeploy

# What a static link needs besides the archive (Rust's std on this target); printed by rustc
# for a staticlib. The crate's own dependencies add no system library.
echo '' >"${TMPDIR:-/tmp}/qovery-empty-$$.rs"
native=$(rustc --crate-type staticlib --print native-static-libs \
    -o "${TMPDIR:-/tmp}/qovery-empty-$$.a" "${TMPDIR:-/tmp}/qovery-empty-$$.rs" 2>&1 |
    sed -n 's/.*native-static-libs: //p')
rm -f "${TMPDIR:-/tmp}/qovery-empty-$$".{rs,a}
[[ -n $native ]] || { echo "ffi-install: cannot ask rustc for the native static libs" >&2; exit 1; }

dest_lib=$destdir$libdir dest_inc=$destdir$includedir
install -d "$dest_lib/pkgconfig" "$dest_lib/cmake/qovery_redeploy" "$dest_inc"
install -m 755 "$built/$name.so" "$dest_lib/$name.so.$version"
ln -sfn "$name.so.$version" "$dest_lib/$name.so.$sover"
ln -sfn "$name.so.$sover" "$dest_lib/$name.so"
install -m 644 "$built/$name.a" "$dest_lib/$name.a"
install -m 644 include/qovery_redeploy.h "$dest_inc/qovery_redeploy.h"

pc_prefix=$prefix pc_libdir=$libdir pc_includedir=$includedir
if [[ $relocatable == 1 ]]; then
    pc_prefix="\${pcfiledir}/$(realpath -m --relative-to="$libdir/pkgconfig" "$prefix")"
    pc_libdir="\${prefix}/$(realpath -m --relative-to="$prefix" "$libdir")"
    pc_includedir="\${prefix}/$(realpath -m --relative-to="$prefix" "$includedir")"
fi
# write_pc FILE NAME LIBS [LIBS_PRIVATE]
write_pc() {
    cat >"$1" <<PC
prefix=$pc_prefix
exec_prefix=\${prefix}
libdir=$pc_libdir
includedir=$pc_includedir

Name: $2
Description: Redeploy a Qovery managed database through the Qovery REST API (C API)
Version: $version
Libs: $3
${4:+Libs.private: $4
}Cflags: -I\${includedir}
PC
}
write_pc "$dest_lib/pkgconfig/qovery_redeploy.pc" qovery_redeploy '-L${libdir} -lqovery_redeploy' "$native"
write_pc "$dest_lib/pkgconfig/qovery_redeploy-static.pc" qovery_redeploy-static "\${libdir}/$name.a $native"

# The CMake files find everything relative to themselves, so a staged (--destdir) or moved
# prefix still works.
cmake_dir=$libdir/cmake/qovery_redeploy
rel_lib=$(realpath -m --relative-to="$cmake_dir" "$libdir")
rel_inc=$(realpath -m --relative-to="$cmake_dir" "$includedir")
cmake_native=""
for flag in $native; do
    case $flag in
        -lpthread) cmake_native+="Threads::Threads;" ;;
        -l*) cmake_native+="${flag#-l};" ;;
    esac
done
cat >"$dest_lib/cmake/qovery_redeploy/qovery_redeployConfig.cmake" <<CMAKE
# find_package(qovery_redeploy) for libqovery_redeploy $version (written by scripts/ffi-install.sh).
# Imported targets:
#   qovery_redeploy::qovery_redeploy         the shared library (soname $name.so.$sover)
#   qovery_redeploy::qovery_redeploy_static  the static library, with the system libraries it needs
include(CMakeFindDependencyMacro)
find_dependency(Threads)

get_filename_component(_qovery_libdir "\${CMAKE_CURRENT_LIST_DIR}/$rel_lib" ABSOLUTE)
get_filename_component(_qovery_includedir "\${CMAKE_CURRENT_LIST_DIR}/$rel_inc" ABSOLUTE)

if(NOT TARGET qovery_redeploy::qovery_redeploy)
  add_library(qovery_redeploy::qovery_redeploy SHARED IMPORTED)
  set_target_properties(qovery_redeploy::qovery_redeploy PROPERTIES
    IMPORTED_LOCATION "\${_qovery_libdir}/$name.so.$version"
    IMPORTED_SONAME "$name.so.$sover"
    INTERFACE_INCLUDE_DIRECTORIES "\${_qovery_includedir}")
endif()
if(NOT TARGET qovery_redeploy::qovery_redeploy_static)
  add_library(qovery_redeploy::qovery_redeploy_static STATIC IMPORTED)
  set_target_properties(qovery_redeploy::qovery_redeploy_static PROPERTIES
    IMPORTED_LOCATION "\${_qovery_libdir}/$name.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_qovery_includedir}"
    INTERFACE_LINK_LIBRARIES "${cmake_native%;}")
endif()

set(qovery_redeploy_VERSION "$version")
set(qovery_redeploy_INCLUDE_DIRS "\${_qovery_includedir}")
set(qovery_redeploy_LIBRARIES qovery_redeploy::qovery_redeploy)
unset(_qovery_libdir)
unset(_qovery_includedir)
CMAKE

cat >"$dest_lib/cmake/qovery_redeploy/qovery_redeployConfigVersion.cmake" <<CMAKE
# Compatible when the requested version is not newer and, before 1.0, has the same minor
# version (the soname rule); from 1.0, the same major version.
set(PACKAGE_VERSION "$version")
if(NOT CMAKE_SIZEOF_VOID_P STREQUAL "" AND NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
elseif(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif("$major" STREQUAL "0" AND NOT PACKAGE_FIND_VERSION_MINOR STREQUAL "$minor")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE

echo "ffi-install: installed libqovery_redeploy $version (from ${built#$root/}, soname $name.so.$sover) into $destdir$prefix"
