/**
 * @file prov.h  The provisioning directory DATADIR/provisioning, shared by
 * TFTP and HTTP: files are opened beneath it only.
 */
#ifndef TANDEM_WEB_PROV_H
#define TANDEM_WEB_PROV_H

/** Make (mode 0750) and open DATADIR/provisioning as an O_PATH descriptor;
 * path receives its name. 0 or an errno value. */
int prov_dir_open(const char *datadir, char *path, unsigned long pathsize, int *dirfd);

/**
 * Open name (leading slashes dropped) read-only beneath dirfd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): ".." or a symlink that
 * leaves the directory fails with EXDEV (or ELOOP). Only regular files:
 * EISDIR otherwise. *size gets the file's size. 0 or an errno value.
 */
int prov_open(int dirfd, const char *name, int *fd, unsigned long long *size);

#endif
