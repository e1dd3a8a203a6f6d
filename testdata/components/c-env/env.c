// c-env: getenv and environ from wasi-libc, which fills them from the host's
// wasi:cli/environment when the program starts.
#include "../c-common/cabi.h"

extern char **environ;

// option<string> in memory: a u8 discriminant, then the string aligned to 4.
typedef struct {
  uint8_t is_some;
  cabi_bytes value;
} option_bytes;

static option_bytes get_env_result;
static cabi_bytes env_keys_result;

CABI_EXPORT("get-env")
option_bytes *export_get_env(uint8_t *key_ptr, size_t key_len) {
  char *key = malloc(key_len + 1);
  if (key == NULL) abort();
  memcpy(key, key_ptr, key_len);
  key[key_len] = '\0';
  free(key_ptr);
  // A key containing NUL cannot name a variable: report it as unset.
  const char *value = strlen(key) == key_len ? getenv(key) : NULL;
  free(key);
  option_bytes *r = &get_env_result;
  if (value == NULL) {
    r->is_some = 0;
    r->value.ptr = NULL;
    r->value.len = 0;
    return r;
  }
  size_t n = strlen(value);
  r->is_some = 1;
  r->value.ptr = cabi_copy(value, n);
  r->value.len = n;
  return r;
}

CABI_EXPORT("cabi_post_get-env")
void post_get_env(option_bytes *r) {
  free(r->value.ptr);
  r->value.ptr = NULL;
  r->value.len = 0;
}

CABI_EXPORT("env-keys")
cabi_bytes *export_env_keys(void) {
  size_t count = 0;
  while (environ != NULL && environ[count] != NULL) count++;
  cabi_bytes *keys = malloc((count ? count : 1) * sizeof *keys);
  if (keys == NULL) abort();
  for (size_t i = 0; i < count; i++) {
    const char *entry = environ[i];
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    keys[i].ptr = cabi_copy(entry, n);
    keys[i].len = n;
  }
  env_keys_result.ptr = (uint8_t *)keys;
  env_keys_result.len = count;
  return &env_keys_result;
}

CABI_EXPORT("cabi_post_env-keys")
void post_env_keys(cabi_bytes *r) {
  cabi_bytes *keys = (cabi_bytes *)r->ptr;
  for (size_t i = 0; i < r->len; i++) free(keys[i].ptr);
  free(keys);
  r->ptr = NULL;
  r->len = 0;
}
