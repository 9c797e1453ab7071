/** @file fs.h  Small file-system helpers shared by the areas. */
#ifndef TANDEM_CORE_FS_H
#define TANDEM_CORE_FS_H

#include <sys/types.h>

/** mkdir -p with mode for each directory made. 0 or an errno value. */
int fs_mkdirs(const char *path, mode_t mode);

#endif
