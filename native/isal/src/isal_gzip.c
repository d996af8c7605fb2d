/*
 * gzip and gunzip of one buffer, each as one async work item on libuv's thread pool, returning a Promise:
 * deflate and inflate through libdeflate when built with it (DRIVESNAP_LIBDEFLATE, the copy in
 * native/libdeflate: smaller streams, at each level, than igzip's best, and the faster inflate); without it
 * both through Intel ISA-L's igzip, which `igzip` deflates through in any build (repository levels 1-2). The
 * streams are plain gzip (RFC 1952: header, deflate, CRC-32 and ISIZE), so any gunzip reads them and this
 * reads any gzip. `compressor` and `inflater` name what runs; `maxLevel` is the compressor's top level.
 *
 *   gzip(data: Uint8Array, level: 0..maxLevel, maxOutput: number) -> Promise<Buffer | null>
 *     null when the stream would exceed maxOutput bytes: the caller's "this does not shrink" answer (igzip
 *     stops at the end of its output buffer). maxOutput < 0: no bound.
 *   gzip(data: Uint8Array, level: 0..maxLevel, maxOutput: number, into: Uint8Array) -> Promise<number | null>
 *     the same, written into the caller's buffer (at most min(maxOutput, into.length) bytes; maxOutput < 0:
 *     into.length); resolves the length. A caller reusing its output buffers mallocs nothing per range on
 *     the pool threads, whose glibc arenas kept the freed 4 MiB outputs resident (peak RSS).
 *   igzip(...) -> the same as gzip, always through igzip at its levels 0..3 (benchmarks compare the two).
 *   gunzip(data: Uint8Array, maxOutput: number) -> Promise<Buffer>
 *     rejects when the stream is damaged or inflates to more than maxOutput bytes. Concatenated members
 *     inflate back to back, as node:zlib does.
 *   gunzip(data: Uint8Array, maxOutput: number, into: Uint8Array) -> Promise<number>
 *     the same, inflated into the caller's buffer (at most min(maxOutput, into.length) bytes); resolves the
 *     length. No allocation: a restore inflates every range into the buffer it reuses, where a fresh 4 MiB
 *     per range cost page faults and V8 major collections (perf: ~25% of a restore's CPU).
 *
 * Results are malloc'd on the worker thread and handed to JavaScript as external buffers (no copy on the
 * event loop); the input stays referenced until the work completes.
 */
#define _GNU_SOURCE /* SEEK_DATA */
#include <isa-l/igzip_lib.h>
#ifdef DRIVESNAP_LIBDEFLATE
#include "libdeflate.h" /* native/libdeflate */
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#else
#define M_MMAP_THRESHOLD 0 /* unused off glibc: set_malloc_option then reports false */
#endif

#define GZIP_WRAPPER_BYTES 18 /* 10-byte header, 8-byte trailer */

typedef enum { OP_GZIP, OP_GUNZIP, OP_GCM_SEAL, OP_GCM_OPEN, OP_HASH, OP_NEXT_DATA } op_kind;

typedef struct {
  op_kind kind;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref;
  const uint8_t *in;
  size_t in_len;
  int level;
  int use_igzip; /* gzip: igzip even when libdeflate is built in */
  int64_t max_output; /* < 0: unbounded (gzip only) */
  size_t room; /* gzip into the caller's buffer: its length (max_output may be less) */
  uint8_t *out;
  size_t out_len;
  napi_ref into_ref; /* gunzip into the caller's buffer: `out` is its memory, never freed here */
  int overflow; /* gzip: output would exceed max_output */
  const char *error; /* static message, or NULL */
  char error_buf[160];
  /* OP_GCM_SEAL: key, nonce and associated data, copied at the call (small) */
  uint8_t key[32];
  uint8_t nonce[12];
  uint8_t *aad;
  size_t aad_len;
  /* OP_HASH: HMAC-SHA-256 under key[0..32) when has_key, else SHA-256; the 32-byte digest */
  int has_key;
  uint8_t digest[32];
  /* OP_NEXT_DATA: lseek(fd, offset, SEEK_DATA) -> found (-1: only a hole follows, -2: unknown) */
  int fd;
  int64_t offset;
  double found;
} job;

/* A zeroed job, or NULL with an error thrown. */
static job *new_job(napi_env env) {
  job *j = calloc(1, sizeof *j);
  if (!j) napi_throw_error(env, NULL, "out of memory");
  return j;
}

static void job_fail(job *j, const char *fmt, long long a, long long b) {
  snprintf(j->error_buf, sizeof j->error_buf, fmt, a, b);
  j->error = j->error_buf;
}

static uint32_t level_buf_size(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
  }
}

/* Room for any input: stored blocks cost 5 bytes per 64 KiB, plus block headers and the gzip wrapper. */
static size_t gzip_bound(size_t n) { return n + (n >> 10) + 1024 + GZIP_WRAPPER_BYTES; }

/* The end of every gzip: an overflow or error frees a malloc'd output; a fit shrinks it to the stream. */
static void gzip_done(job *j) {
  if (j->error || j->overflow) {
    if (!j->into_ref) free(j->out);
    j->out = NULL;
  } else if (!j->into_ref) {
    uint8_t *fit = realloc(j->out, j->out_len ? j->out_len : 1);
    if (fit) j->out = fit;
  }
}

static void run_igzip(job *j) {
  size_t cap = j->max_output >= 0 ? (size_t)j->max_output : gzip_bound(j->in_len);
  uint32_t lb_size = level_buf_size(j->level);
  uint8_t *level_buf = lb_size ? malloc(lb_size) : NULL;
  /* +1 so a zero-length bound still gives malloc something to return */
  if (!j->into_ref) j->out = malloc(cap + 1);
  if ((lb_size && !level_buf) || !j->out) {
    j->error = "out of memory";
    goto done;
  }
  struct isal_zstream s;
  isal_deflate_stateless_init(&s);
  s.level = (uint32_t)j->level;
  s.level_buf = level_buf;
  s.level_buf_size = lb_size;
  s.gzip_flag = IGZIP_GZIP;
  s.end_of_stream = 1;
  s.flush = NO_FLUSH;
  s.next_in = (uint8_t *)j->in;
  s.avail_in = (uint32_t)j->in_len;
  s.next_out = j->out;
  s.avail_out = (uint32_t)cap;
  int rc = isal_deflate_stateless(&s);
  if (rc == STATELESS_OVERFLOW) {
    if (j->max_output < 0 && !j->into_ref) {
      j->error = "ISA-L deflate overflowed its bound";
    } else {
      j->overflow = 1;
    }
    goto done;
  }
  if (rc != COMP_OK) {
    job_fail(j, "ISA-L deflate failed (code %lld)", rc, 0);
    goto done;
  }
  j->out_len = s.total_out;
done:
  free(level_buf);
  gzip_done(j);
}

#ifdef DRIVESNAP_LIBDEFLATE
#define LIBDEFLATE_MAX_LEVEL 12
/* One compressor per pool thread and level, made on first use and kept for the thread's life: making one
   costs ~650 KiB of tables (levels 2..9; 8.6 MiB at 10..12), too much to repeat per range. */
static struct libdeflate_compressor *thread_compressor(int level) {
  static __thread struct libdeflate_compressor *by_level[LIBDEFLATE_MAX_LEVEL + 1];
  if (!by_level[level]) by_level[level] = libdeflate_alloc_compressor(level);
  return by_level[level];
}

static void run_libdeflate(job *j) {
  struct libdeflate_compressor *c = thread_compressor(j->level);
  if (!c) {
    j->error = "out of memory";
    return;
  }
  /* libdeflate (1.19 on) fills its output up to the last byte, or returns 0 when the stream does not fit. */
  size_t bound = j->max_output >= 0 ? (size_t)j->max_output : libdeflate_gzip_compress_bound(c, j->in_len);
  size_t room = bound;
  if (j->into_ref && j->room < room) room = j->room;
  if (!j->into_ref) j->out = malloc(room);
  if (!j->out) {
    j->error = "out of memory";
    return;
  }
  size_t n = room ? libdeflate_gzip_compress(c, j->in, j->in_len, j->out, room) : 0;
  if (n == 0 || n > bound) {
    if (j->max_output < 0 && !j->into_ref) j->error = "libdeflate overflowed its bound";
    else j->overflow = 1;
  } else {
    j->out_len = n;
  }
  gzip_done(j);
}
#define GZIP_COMPRESSOR "libdeflate"
#define GZIP_MAX_LEVEL LIBDEFLATE_MAX_LEVEL
#else
#define GZIP_COMPRESSOR "isal-igzip"
#define GZIP_MAX_LEVEL ISAL_DEF_MAX_LEVEL
#endif

static void run_gzip(job *j) {
#ifdef DRIVESNAP_LIBDEFLATE
  if (!j->use_igzip) {
    run_libdeflate(j);
    return;
  }
#endif
  run_igzip(j);
}

static int is_gzip_magic(const uint8_t *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

/* The output's first capacity, allocated unless the caller gave its buffer: ISIZE of a single-member stream
   (the last 4 bytes) sizes it exactly; a stream claiming more than the bound fails when the output fills. */
static size_t gunzip_output(job *j) {
  if (j->into_ref) return (size_t)j->max_output; /* already min(maxOutput, into.length); nothing to grow */
  size_t cap = (size_t)j->max_output;
  if (j->in_len >= GZIP_WRAPPER_BYTES) {
    const uint8_t *t = j->in + j->in_len - 4;
    uint32_t isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (isize < cap) cap = isize;
  }
  j->out = malloc(cap + 1);
  return cap;
}

/* The output filled at `*cap`: grow it to the bound when ISIZE undersold a multi-member stream; 0 when it
   cannot grow (the stream inflates past the bound, or no memory: j->error then says which). */
static int gunzip_grow(job *j, size_t *cap) {
  if (j->into_ref || *cap >= (size_t)j->max_output) {
    job_fail(j, "gzip stream inflates to more than %lld bytes", j->max_output, 0);
    return 0;
  }
  uint8_t *grown = realloc(j->out, (size_t)j->max_output + 1);
  if (!grown) {
    j->error = "out of memory";
    return 0;
  }
  j->out = grown;
  *cap = (size_t)j->max_output;
  return 1;
}

/* The result's length, its allocation cut to fit; on an error the allocation is freed. */
static void gunzip_finish(job *j, size_t out_len, size_t cap) {
  if (j->error) {
    if (!j->into_ref) free(j->out);
    j->out = NULL;
    return;
  }
  j->out_len = out_len;
  if (!j->into_ref && out_len < cap) {
    uint8_t *fit = realloc(j->out, out_len ? out_len : 1);
    if (fit) j->out = fit;
  }
}

#ifdef DRIVESNAP_LIBDEFLATE
/* libdeflate's inflate: 1.2x igzip's on the repository's streams (one core, 4 MiB ranges of the bench
   workload deflated at level 3: 818 against 680 MiB/s of output), and it checks each member's CRC-32 and
   length itself. One decompressor per pool thread, kept (a few KiB). */
static void run_gunzip(job *j) {
  static __thread struct libdeflate_decompressor *d;
  size_t cap = gunzip_output(j);
  size_t out_len = 0;
  if (!d) d = libdeflate_alloc_decompressor();
  if (!j->out || !d) {
    j->error = "out of memory";
  } else if (!is_gzip_magic(j->in, j->in_len)) {
    j->error = "not a gzip stream (bad header)";
  } else {
    const uint8_t *in = j->in;
    size_t in_left = j->in_len;
    while (in_left > 0 && !j->error) {
      if (!is_gzip_magic(in, in_left)) {
        j->error = "trailing bytes after the gzip stream";
        break;
      }
      size_t used = 0, produced = 0;
      enum libdeflate_result rc = libdeflate_gzip_decompress_ex(d, in, in_left, j->out + out_len, cap - out_len, &used, &produced);
      if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) {
        if (gunzip_grow(j, &cap)) continue; /* the member again, into the larger output */
      } else if (rc != LIBDEFLATE_SUCCESS) {
        job_fail(j, "damaged or truncated gzip stream, or its CRC-32 and length trailer do not match (libdeflate code %lld)", rc, 0);
      } else {
        out_len += produced;
        in += used;
        in_left -= used;
      }
    }
  }
  gunzip_finish(j, out_len, cap);
}
#define GZIP_INFLATER "libdeflate"
#else
static void run_gunzip(job *j) {
  size_t cap = gunzip_output(j);
  size_t out_len = 0;
  struct inflate_state *st = malloc(sizeof *st);
  if (!j->out || !st) {
    j->error = "out of memory";
    goto done;
  }
  const uint8_t *in = j->in;
  size_t in_left = j->in_len;
  if (!is_gzip_magic(in, in_left)) {
    j->error = "not a gzip stream (bad header)";
    goto done;
  }
  while (in_left > 0) {
    if (!is_gzip_magic(in, in_left)) {
      j->error = "trailing bytes after the gzip stream";
      goto done;
    }
    isal_inflate_init(st);
    st->crc_flag = ISAL_GZIP;
    st->next_in = (uint8_t *)in;
    st->avail_in = (uint32_t)in_left;
    size_t member_start = out_len;
    for (;;) {
      st->next_out = j->out + out_len;
      st->avail_out = (uint32_t)(cap - out_len);
      int rc = isal_inflate(st);
      out_len = (size_t)(st->next_out - j->out);
      if (rc < 0) {
        job_fail(j, rc == ISAL_INCORRECT_CHECKSUM ? "gzip trailer check (CRC-32 and length) failed (ISA-L code %lld)" : "damaged gzip stream (ISA-L code %lld)", rc, 0);
        goto done;
      }
      if (st->block_state == ISAL_BLOCK_FINISH) break;
      if (st->avail_out == 0) {
        if (gunzip_grow(j, &cap)) continue;
        goto done;
      }
      if (st->avail_in == 0) {
        j->error = "truncated gzip stream";
        goto done;
      }
    }
    /* The trailer's ISIZE against what this member produced (ISA-L checks the CRC). */
    const uint8_t *t = st->next_in - 4;
    uint32_t isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (isize != (uint32_t)(out_len - member_start)) {
      job_fail(j, "gzip length trailer says %lld bytes, the stream holds %lld", isize, (long long)(out_len - member_start));
      goto done;
    }
    in_left -= (size_t)(st->next_in - in);
    in = st->next_in;
  }
done:
  free(st);
  gunzip_finish(j, out_len, cap);
}
#define GZIP_INFLATER "isal-igzip"
#endif

/* AES-256-GCM of in[0..in_len) into out: ciphertext, then the 16-byte tag. out may be in itself (in place). */
static void run_gcm_seal(job *j) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)sizeof j->nonce, NULL) == 1 &&
           EVP_EncryptInit_ex(ctx, NULL, NULL, j->key, j->nonce) == 1 &&
           (j->aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &len, j->aad, (int)j->aad_len) == 1);
  size_t done = 0;
  /* EVP lengths are ints: feed the data in pieces (GCM is a stream: no padding, out advances with in). */
  while (ok && done < j->in_len) {
    size_t piece = j->in_len - done > (1u << 30) ? (1u << 30) : j->in_len - done;
    ok = EVP_EncryptUpdate(ctx, j->out + done, &len, j->in + done, (int)piece) == 1 && (size_t)len == piece;
    done += piece;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx, j->out + done, &len) == 1 && len == 0 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, j->out + done) == 1;
  if (!ok) j->error = "AES-256-GCM sealing failed";
  else j->out_len = done + 16;
  EVP_CIPHER_CTX_free(ctx);
}

/* AES-256-GCM open of in[0..in_len) (ciphertext, then the tag) into out; the tag failing is no error:
   out_len stays 0 and `overflow` says so (resolved as null). */
static void run_gcm_open(job *j) {
  size_t ct_len = j->in_len - 16;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)sizeof j->nonce, NULL) == 1 &&
           EVP_DecryptInit_ex(ctx, NULL, NULL, j->key, j->nonce) == 1 &&
           (j->aad_len == 0 || EVP_DecryptUpdate(ctx, NULL, &len, j->aad, (int)j->aad_len) == 1) &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(j->in + ct_len)) == 1;
  size_t done = 0;
  while (ok && done < ct_len) {
    size_t piece = ct_len - done > (1u << 30) ? (1u << 30) : ct_len - done;
    ok = EVP_DecryptUpdate(ctx, j->out + done, &len, j->in + done, (int)piece) == 1 && (size_t)len == piece;
    done += piece;
  }
  if (!ok) j->error = "AES-256-GCM opening failed";
  else if (EVP_DecryptFinal_ex(ctx, j->out + done, &len) != 1) {
    OPENSSL_cleanse(j->out, ct_len); /* never leave unauthenticated plaintext behind */
    j->overflow = 1;
  } else j->out_len = ct_len;
  EVP_CIPHER_CTX_free(ctx);
}

static void run_hash(job *j) {
  unsigned int len = 0;
  if (j->has_key) {
    if (!HMAC(EVP_sha256(), j->key, (int)sizeof j->key, j->in, j->in_len, j->digest, &len) || len != 32) j->error = "HMAC-SHA-256 failed";
  } else if (!SHA256(j->in, j->in_len, j->digest)) {
    j->error = "SHA-256 failed";
  }
}

static void run_next_data(job *j) {
  j->found = -2;
#ifdef SEEK_DATA
  off_t at = lseek(j->fd, (off_t)j->offset, SEEK_DATA);
  if (at >= 0) j->found = (double)at;
  else if (errno == ENXIO) j->found = -1;
#endif
}

static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  if (j->kind == OP_HASH) run_hash(j);
  else if (j->kind == OP_NEXT_DATA) run_next_data(j);
  else if (j->kind == OP_GZIP) run_gzip(j);
  else if (j->kind == OP_GCM_SEAL) run_gcm_seal(j);
  else if (j->kind == OP_GCM_OPEN) run_gcm_open(j);
  else run_gunzip(j);
}

/* V8 is told about the malloc'd bytes, so it collects these buffers as eagerly as its own. */
static void free_external(napi_env env, void *data, void *hint) {
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)(uintptr_t)hint, &ignored);
  free(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_value result = NULL;
  if (status != napi_ok && !j->error) j->error = "the work was cancelled";
  if (j->error) {
    napi_value msg;
    napi_create_string_utf8(env, j->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (j->kind == OP_HASH) {
    void *copy;
    napi_create_buffer_copy(env, sizeof j->digest, j->digest, &copy, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else if (j->kind == OP_NEXT_DATA) {
    napi_create_double(env, j->found, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else if (j->overflow) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else if (j->into_ref) {
    napi_create_double(env, (double)j->out_len, &result);
    j->out = NULL; /* the caller's memory */
    napi_resolve_deferred(env, j->deferred, result);
  } else if (napi_create_external_buffer(env, j->out_len, j->out, free_external, (void *)(uintptr_t)j->out_len, &result) == napi_ok) {
    int64_t ignored;
    napi_adjust_external_memory(env, (int64_t)j->out_len, &ignored);
    j->out = NULL; /* owned by the buffer now */
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "could not wrap the output buffer", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  if (!j->into_ref) free(j->out);
  if (j->input_ref) napi_delete_reference(env, j->input_ref);
  if (j->into_ref) napi_delete_reference(env, j->into_ref);
  napi_delete_async_work(env, j->work);
  free(j->aad);
  OPENSSL_cleanse(j->key, sizeof j->key);
  free(j);
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* Queues a filled-in job on the thread pool: `input` and `into` (the caller's output buffer), when not
   NULL, stay referenced until it completes; returns its promise. */
static napi_value queue_job(napi_env env, job *j, napi_value input, napi_value into, const char *label) {
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  if (input) napi_create_reference(env, input, 1, &j->input_ref);
  if (into) napi_create_reference(env, into, 1, &j->into_ref);
  napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

/* Shared argument handling: args[0] a Uint8Array, then integers. */
static napi_value start(napi_env env, napi_callback_info info, op_kind kind, int use_igzip) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  size_t want = kind == OP_GZIP ? 3 : 2;
  if (argc < want) return throw_type(env, kind == OP_GZIP ? "gzip(data, level, maxOutput)" : "gunzip(data, maxOutput)");
  bool is_ta = false;
  napi_is_typedarray(env, args[0], &is_ta);
  if (!is_ta) return throw_type(env, "data must be a Uint8Array");
  napi_typedarray_type ta_type;
  size_t length;
  void *ptr;
  napi_get_typedarray_info(env, args[0], &ta_type, &length, &ptr, NULL, NULL);
  if (ta_type != napi_uint8_array) return throw_type(env, "data must be a Uint8Array");
  if (length > UINT32_MAX) return throw_type(env, "data must be under 4 GiB");
  int32_t level = 0;
  int64_t max_output;
  if (kind == OP_GZIP) {
    int max_level = use_igzip ? ISAL_DEF_MAX_LEVEL : GZIP_MAX_LEVEL;
    if (napi_get_value_int32(env, args[1], &level) != napi_ok || level < 0 || level > max_level) {
      char msg[48];
      snprintf(msg, sizeof msg, "level must be an integer 0..%d", max_level);
      return throw_type(env, msg);
    }
  }
  size_t room = 0;
  if (napi_get_value_int64(env, args[want - 1], &max_output) != napi_ok) return throw_type(env, "maxOutput must be a number");
  if (max_output > (int64_t)UINT32_MAX) max_output = UINT32_MAX;
  if (kind == OP_GUNZIP && max_output < 0) return throw_type(env, "maxOutput must be >= 0");
  void *into_ptr = NULL;
  napi_value into_arg = NULL;
  if (argc > want) {
    napi_valuetype t;
    napi_typeof(env, args[want], &t);
    if (t != napi_undefined) {
      into_arg = args[want];
      bool into_ta = false;
      napi_is_typedarray(env, into_arg, &into_ta);
      napi_typedarray_type into_type;
      size_t into_len = 0;
      if (into_ta) napi_get_typedarray_info(env, into_arg, &into_type, &into_len, &into_ptr, NULL, NULL);
      if (!into_ta || into_type != napi_uint8_array) return throw_type(env, "into must be a Uint8Array");
      if (max_output < 0 || (int64_t)into_len < max_output) max_output = (int64_t)into_len;
      room = into_len;
      if (into_len == 0) {
        if (kind == OP_GUNZIP) into_ptr = NULL; /* inflate into a 1-byte malloc to tell "empty" from "too long" */
        else into_ptr = NULL, max_output = 0;     /* gzip: nothing fits; resolves null */
      }
    }
  }

  job *j = new_job(env);
  if (!j) return NULL;
  j->kind = kind;
  j->in = ptr;
  j->in_len = length;
  j->level = level;
  j->use_igzip = use_igzip;
  j->max_output = max_output;
  j->room = room;
  if (into_ptr && into_arg) j->out = into_ptr;
  else into_arg = NULL;
  return queue_job(env, j, args[0], into_arg, kind == OP_GZIP ? "isal.gzip" : "isal.gunzip");
}

static napi_value js_gzip(napi_env env, napi_callback_info info) { return start(env, info, OP_GZIP, 0); }
static napi_value js_igzip(napi_env env, napi_callback_info info) { return start(env, info, OP_GZIP, 1); }

/* A Uint8Array argument's memory, or false (and a TypeError thrown) when it is something else. */
static bool bytes_arg(napi_env env, napi_value v, const char *what, uint8_t **ptr, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type t;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) napi_get_typedarray_info(env, v, &t, len, (void **)ptr, NULL, NULL);
  if (!is_ta || t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  return true;
}

/*
 * gcmSeal(key: 32 bytes, nonce: 12 bytes, aad, data, out) -> Promise<number>: AES-256-GCM of `data` into
 * `out` (ciphertext, then the 16-byte tag; out at least data.length + 16 long, and may be data's own memory)
 * through the OpenSSL inside Node.js, on the thread pool; resolves data.length + 16. No output is allocated:
 * node:crypto returns a fresh buffer per call, garbage until V8's next collection (peak RSS).
 */
static napi_value gcm(napi_env env, napi_callback_info info, op_kind kind) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 5) return throw_type(env, kind == OP_GCM_SEAL ? "gcmSeal(key, nonce, aad, data, out)" : "gcmOpen(key, nonce, aad, sealed, out)");
  uint8_t *key, *nonce, *aad, *data, *out;
  size_t key_len, nonce_len, aad_len, data_len, out_len;
  if (!bytes_arg(env, args[0], "key must be a Uint8Array", &key, &key_len) ||
      !bytes_arg(env, args[1], "nonce must be a Uint8Array", &nonce, &nonce_len) ||
      !bytes_arg(env, args[2], "aad must be a Uint8Array", &aad, &aad_len) ||
      !bytes_arg(env, args[3], "data must be a Uint8Array", &data, &data_len) ||
      !bytes_arg(env, args[4], "out must be a Uint8Array", &out, &out_len)) {
    return NULL;
  }
  if (key_len != 32) return throw_type(env, "key must be 32 bytes");
  if (nonce_len != 12) return throw_type(env, "nonce must be 12 bytes");
  if (kind == OP_GCM_SEAL && out_len < data_len + 16) return throw_type(env, "out must hold data.length + 16 bytes");
  if (kind == OP_GCM_OPEN && (data_len < 16 || out_len < data_len - 16)) return throw_type(env, "sealed must hold the 16-byte tag, out sealed.length - 16 bytes");
  if (aad_len > INT32_MAX) return throw_type(env, "aad must be under 2 GiB");
  /* In place or apart: EVP supports out == in, not a partial overlap. */
  if (out != data && out < data + data_len && data < out + out_len) return throw_type(env, "out overlaps data other than in place");
  job *j = new_job(env);
  if (!j) return NULL;
  if (aad_len && !(j->aad = malloc(aad_len))) {
    free(j);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->kind = kind;
  memcpy(j->key, key, 32);
  memcpy(j->nonce, nonce, 12);
  if (aad_len) memcpy(j->aad, aad, aad_len);
  j->aad_len = aad_len;
  j->in = data;
  j->in_len = data_len;
  j->out = out;
  return queue_job(env, j, args[3], args[4], kind == OP_GCM_SEAL ? "isal.gcmSeal" : "isal.gcmOpen");
}

static napi_value js_gcm_seal(napi_env env, napi_callback_info info) { return gcm(env, info, OP_GCM_SEAL); }

/*
 * hash(data, key?: 32 bytes) -> Promise<Buffer>: SHA-256 of `data`, or HMAC-SHA-256 under `key`, on the
 * thread pool, reading `data` where it is (shared memory included): the chunk ids of ranges in flight,
 * hashed on every core without worker threads (each cost ~9 MiB of RSS).
 */
static napi_value js_hash(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 1) return throw_type(env, "hash(data, key?)");
  uint8_t *data, *key = NULL;
  size_t data_len, key_len = 0;
  if (!bytes_arg(env, args[0], "data must be a Uint8Array", &data, &data_len)) return NULL;
  bool keyed = false;
  if (argc > 1) {
    napi_valuetype t;
    napi_typeof(env, args[1], &t);
    keyed = t != napi_undefined;
  }
  if (keyed && !bytes_arg(env, args[1], "key must be a Uint8Array", &key, &key_len)) return NULL;
  if (keyed && key_len != 32) return throw_type(env, "key must be 32 bytes");
  job *j = new_job(env);
  if (!j) return NULL;
  j->kind = OP_HASH;
  j->in = data;
  j->in_len = data_len;
  j->has_key = keyed;
  if (keyed) memcpy(j->key, key, 32);
  return queue_job(env, j, args[0], NULL, "isal.hash");
}

/*
 * gcmOpen(key, nonce, aad, sealed, out) -> Promise<number | null>: the reverse of gcmSeal, into `out` (at
 * least sealed.length - 16 long; may be sealed's own memory). Null when the tag does not verify: `out` is
 * then wiped, never left holding unauthenticated plaintext.
 */
static napi_value js_gcm_open(napi_env env, napi_callback_info info) { return gcm(env, info, OP_GCM_OPEN); }
static napi_value js_gunzip(napi_env env, napi_callback_info info) { return start(env, info, OP_GUNZIP, 1); }

/* mallopt(param, bytes) for a JS number 0..max; false where it is not glibc. */
static napi_value set_malloc_option(napi_env env, napi_callback_info info, int param, int64_t max, const char *usage) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int64_t bytes = 0;
  if (argc < 1 || napi_get_value_int64(env, args[0], &bytes) != napi_ok || bytes < 0 || bytes > max) return throw_type(env, usage);
  int ok = 0;
#ifdef __GLIBC__
  ok = mallopt(param, (int)bytes) == 1;
#else
  (void)param;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/*
 * setMmapThreshold(bytes) -> boolean: glibc's M_MMAP_THRESHOLD, fixed. By default glibc raises the
 * threshold to the size of each mmap'd block freed, so after the first freed 4 MiB buffer every 1-4 MiB
 * buffer (a chunk object read from the repository) came from the heap and stayed resident, fragmented,
 * after V8 freed it. False where it is not glibc.
 */
static napi_value js_set_mmap_threshold(napi_env env, napi_callback_info info) {
  return set_malloc_option(env, info, M_MMAP_THRESHOLD, 32 * 1024 * 1024, "setMmapThreshold(bytes): bytes must be 0..32 MiB");
}

/*
 * nextData(fd, offset) -> Promise<number>: lseek(SEEK_DATA), the first offset at or after `offset` holding data;
 * -1 when only a hole follows (to the end of the file), -2 when the file system cannot say. A backup of a
 * sparse image read its holes as zeros through the kernel at ~0.6 GB/s of system CPU (16 GiB image: 23 s).
 */
static napi_value js_next_data(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  int64_t offset = -1;
  if (argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_int64(env, args[1], &offset) != napi_ok || offset < 0) {
    return throw_type(env, "nextData(fd, offset): a file descriptor and an offset >= 0");
  }
  /* On the thread pool: SEEK_DATA is a lookup in memory on ext4 but a round trip on NFS. */
  job *j = new_job(env);
  if (!j) return NULL;
  j->kind = OP_NEXT_DATA;
  j->fd = fd;
  j->offset = offset;
  return queue_job(env, j, NULL, NULL, "isal.nextData");
}

/*
 * Memory for O_DIRECT writes: a Buffer over page-aligned memory (the block layer DMAs straight from it, so
 * the kernel neither copies it into the page cache nor writes it back later). Freed when the Buffer is.
 */
#define DIRECT_ALIGN 4096

static void free_aligned(napi_env env, void *data, void *hint) {
  int64_t change;
  (void)hint;
  free(data);
  napi_adjust_external_memory(env, -(int64_t)(uintptr_t)hint, &change);
}

static napi_value js_aligned_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int64_t size = -1;
  if (argc < 1 || napi_get_value_int64(env, args[0], &size) != napi_ok || size <= 0 || size > ((int64_t)1 << 31)) {
    return throw_type(env, "alignedBuffer(size): a size of 1 byte to 2 GiB");
  }
  void *memory = NULL;
  if (posix_memalign(&memory, DIRECT_ALIGN, (size_t)size) != 0) {
    napi_throw_error(env, "ENOMEM", "alignedBuffer: out of memory");
    return NULL;
  }
  napi_value buffer;
  if (napi_create_external_buffer(env, (size_t)size, memory, free_aligned, (void *)(uintptr_t)size, &buffer) != napi_ok) {
    free(memory);
    napi_throw_error(env, NULL, "alignedBuffer: the runtime refused an external buffer");
    return NULL;
  }
  int64_t total;
  napi_adjust_external_memory(env, size, &total);
  return buffer;
}

/* True when the view starts on a DIRECT_ALIGN boundary (its length is the caller's to check). */
static napi_value js_is_aligned(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  bool is_ta = false;
  void *data = NULL;
  size_t length = 0;
  if (argc < 1 || napi_is_typedarray(env, args[0], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, args[0], NULL, &length, &data, NULL, NULL) != napi_ok) {
    return throw_type(env, "isAligned(data): a Uint8Array");
  }
  napi_value result;
  napi_get_boolean(env, ((uintptr_t)data % DIRECT_ALIGN) == 0, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gzip", NULL, js_gzip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"igzip", NULL, js_igzip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gunzip", NULL, js_gunzip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMmapThreshold", NULL, js_set_mmap_threshold, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gcmSeal", NULL, js_gcm_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gcmOpen", NULL, js_gcm_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hash", NULL, js_hash, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nextData", NULL, js_next_data, NULL, NULL, NULL, napi_enumerable, NULL},
      {"alignedBuffer", NULL, js_aligned_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isAligned", NULL, js_is_aligned, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value value;
  napi_create_int32(env, GZIP_MAX_LEVEL, &value);
  napi_set_named_property(env, exports, "maxLevel", value);
  napi_create_string_utf8(env, GZIP_COMPRESSOR, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, exports, "compressor", value);
  napi_create_string_utf8(env, GZIP_INFLATER, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, exports, "inflater", value);
#ifdef DRIVESNAP_LIBDEFLATE
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, exports, "libdeflateVersion", value);
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
