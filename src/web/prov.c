/** @file prov.c  Opening provisioning files beneath their directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/fs.h"
#include "web/prov.h"

int prov_dir_open(const char *datadir, char *path, unsigned long pathsize, int *dirfd)
{
	int e, fd;

	snprintf(path, pathsize, "%s/provisioning", datadir);
	if ((e = fs_mkdirs(path, 0750)))
		return e;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	*dirfd = fd;
	return 0;
}

int prov_open(int dirfd, const char *name, int *fdp, unsigned long long *size)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	long r;

	while (*name == '/')   /* phones ask for "/file.cfg" as often as "file.cfg" */
		name++;
	if (!*name)
		return EISDIR;
	r = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (r < 0)
		return errno;
	if (fstat((int)r, &st) < 0 || !S_ISREG(st.st_mode)) {
		close((int)r);
		return EISDIR;
	}
	*fdp = (int)r;
	*size = (unsigned long long)st.st_size;
	return 0;
}
