// c-files: read, list and write files with open/read/readdir/write, so every access
// goes through wasi:filesystem (via the preview1 adapter) and the host's policy.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "../c-common/cabi.h"

// result<T, string> where T is a string or list<string>, as laid out in memory: a u8
// discriminant, then the payload aligned to 4 (both payloads are a ptr/len pair).
typedef struct {
  uint8_t is_err;
  cabi_bytes payload;
} result_bytes;

static result_bytes read_result, list_result, write_result;

// c_string copies a canonical-ABI string (not NUL-terminated) into a C string and frees
// the argument buffer, which cabi_realloc allocated for us.
static char *c_string(uint8_t *ptr, size_t len) {
  char *s = malloc(len + 1);
  if (s == NULL) abort();
  memcpy(s, ptr, len);
  s[len] = '\0';
  free(ptr);
  return s;
}

// set_error fills a result's err side with "WHAT PATH: strerror(errno)".
static result_bytes *set_error(result_bytes *r, const char *what, const char *path) {
  const char *reason = strerror(errno);
  int n = snprintf(NULL, 0, "%s %s: %s", what, path, reason);
  char *msg = malloc((size_t)n + 1);
  if (msg == NULL) abort();
  snprintf(msg, (size_t)n + 1, "%s %s: %s", what, path, reason);
  r->is_err = 1;
  r->payload.ptr = (uint8_t *)msg;
  r->payload.len = (size_t)n;
  return r;
}

static void free_result_bytes(result_bytes *r) {
  free(r->payload.ptr);
  r->payload.ptr = NULL;
  r->payload.len = 0;
}

CABI_EXPORT("read-file")
result_bytes *export_read_file(uint8_t *path_ptr, size_t path_len) {
  char *path = c_string(path_ptr, path_len);
  result_bytes *r = &read_result;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    set_error(r, "open", path);
    free(path);
    return r;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) abort();
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (buf == NULL) abort();
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      free(buf);
      close(fd);
      set_error(r, "read", path);
      free(path);
      return r;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  free(path);
  r->is_err = 0;
  r->payload.ptr = buf;
  r->payload.len = len;
  return r;
}

CABI_EXPORT("cabi_post_read-file")
void post_read_file(result_bytes *r) { free_result_bytes(r); }

CABI_EXPORT("list-dir")
result_bytes *export_list_dir(uint8_t *path_ptr, size_t path_len) {
  char *path = c_string(path_ptr, path_len);
  result_bytes *r = &list_result;
  DIR *dir = opendir(path);
  if (dir == NULL) {
    set_error(r, "opendir", path);
    free(path);
    return r;
  }
  size_t cap = 16, count = 0;
  cabi_bytes *names = malloc(cap * sizeof *names);
  if (names == NULL) abort();
  struct dirent *ent;
  errno = 0;
  while ((ent = readdir(dir)) != NULL) {
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
    if (count == cap) {
      cap *= 2;
      names = realloc(names, cap * sizeof *names);
      if (names == NULL) abort();
    }
    size_t n = strlen(ent->d_name);
    names[count].ptr = cabi_copy(ent->d_name, n);
    names[count].len = n;
    count++;
  }
  int failed = errno != 0;
  closedir(dir);
  if (failed) {
    for (size_t i = 0; i < count; i++) free(names[i].ptr);
    free(names);
    set_error(r, "readdir", path);
    free(path);
    return r;
  }
  free(path);
  r->is_err = 0;
  r->payload.ptr = (uint8_t *)names;
  r->payload.len = count;
  return r;
}

CABI_EXPORT("cabi_post_list-dir")
void post_list_dir(result_bytes *r) {
  if (!r->is_err) {
    cabi_bytes *names = (cabi_bytes *)r->payload.ptr;
    for (size_t i = 0; i < r->payload.len; i++) free(names[i].ptr);
  }
  free_result_bytes(r);
}

CABI_EXPORT("write-file")
result_bytes *export_write_file(uint8_t *path_ptr, size_t path_len, uint8_t *data, size_t data_len) {
  char *path = c_string(path_ptr, path_len);
  result_bytes *r = &write_result;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    free(data);
    set_error(r, "open", path);
    free(path);
    return r;
  }
  size_t done = 0;
  while (done < data_len) {
    ssize_t n = write(fd, data + done, data_len - done);
    if (n < 0) {
      free(data);
      close(fd);
      set_error(r, "write", path);
      free(path);
      return r;
    }
    done += (size_t)n;
  }
  free(data);
  if (close(fd) != 0) {
    set_error(r, "close", path);
    free(path);
    return r;
  }
  free(path);
  r->is_err = 0;
  r->payload.ptr = NULL;
  r->payload.len = 0;
  return r;
}

CABI_EXPORT("cabi_post_write-file")
void post_write_file(result_bytes *r) { free_result_bytes(r); }
