/* SPDX-License-Identifier: ISC */
/* infile_test.c: a regular file read again instead of teed (infile.c, message_again): the
 * fingerprint is the same for every split of a stream and changes with any byte or the length;
 * a second reading through message_again gives the bytes of the first, stops where the first
 * ended, and says when the file changed (grew after it was read, or bytes it read changed),
 * reading on to keep the file as it is now, or failing when strict. One temporary file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infile.h"
#include "message.h"
#include "tap.h"
#include "util.h"

static const volatile sig_atomic_t never_cancelled = 0;

static uint64_t fp_of(const unsigned char *p, size_t n, const size_t *cuts, size_t ncuts)
{
	struct fingerprint f = {0};
	size_t at = 0;
	for (size_t i = 0; i < ncuts; i++) {
		fingerprint_update(&f, p + at, cuts[i] - at);
		at = cuts[i];
	}
	fingerprint_update(&f, p + at, n - at);
	return fingerprint_value(&f);
}

static void test_fingerprint(void)
{
	unsigned char data[1000];
	uint32_t seed = 7;
	for (size_t i = 0; i < sizeof data; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(seed >> 16);
	}
	uint64_t whole = fp_of(data, sizeof data, NULL, 0);
	bool same = true;
	for (size_t a = 0; a <= sizeof data; a++)
		for (size_t b = a; b <= sizeof data; b += 7) {
			size_t cuts[2] = { a, b };
			same &= fp_of(data, sizeof data, cuts, 2) == whole;
		}
	ok(same, "the same value for every split into up to three updates");
	struct fingerprint f = {0};
	for (size_t i = 0; i < sizeof data; i++)
		fingerprint_update(&f, data + i, 1);
	ok(fingerprint_value(&f) == whole, "and byte by byte");
	ok(f.count == sizeof data, "it counts the bytes");
	bool differs = true;
	for (size_t i = 0; i < sizeof data; i++)
		for (unsigned bit = 0; bit < 8; bit++) {
			data[i] ^= (unsigned char)(1u << bit);
			differs &= fp_of(data, sizeof data, NULL, 0) != whole;
			data[i] ^= (unsigned char)(1u << bit);
		}
	ok(differs, "any one bit changed anywhere changes it");
	bool portable_same = true;
	for (size_t n = 0; n <= sizeof data; n += 37) {
		uint64_t vec = fp_of(data, n, NULL, 0);
		fingerprint_portable(true);
		portable_same &= fp_of(data, n, NULL, 0) == vec;
		fingerprint_portable(false);
	}
	ok(portable_same, "the portable lanes give what the vector ones give, for every length");
	unsigned char zeros[65] = {0};
	bool by_length = true;
	for (size_t n = 0; n < sizeof zeros; n++)
		by_length &= fp_of(zeros, n, NULL, 0) != fp_of(zeros, n + 1, NULL, 0);
	ok(by_length, "zeros of different lengths differ");
	unsigned char swapped[sizeof data];
	memcpy(swapped, data, sizeof data);
	memcpy(swapped, data + 8, 8);
	memcpy(swapped + 8, data, 8);
	ok(fp_of(swapped, sizeof swapped, NULL, 0) != whole, "two words swapped change it");
}

static char path[] = "/tmp/infile_test.XXXXXX";

static void put_file(const char *text, bool append)
{
	int fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	ssize_t w = write(fd, text, strlen(text));
	(void)w;
	close(fd);
}

static void patch_file(off_t at, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t w = pwrite(fd, text, strlen(text), at);
	(void)w;
	close(fd);
}

static char *drain(struct message *m, size_t chunk, bool *failed)
{
	struct buf out = {0};
	char piece[65536];
	struct diag d = {0};
	ssize_t got;
	*failed = false;
	while ((got = message_read(m, piece, chunk, &d)) > 0)
		buf_append(&out, piece, (size_t)got);
	if (got < 0)
		*failed = true;
	buf_putc(&out, '\0');
	return buf_steal(&out);
}

struct first {
	int fd;
	struct infile *in;
	struct message *m;
	struct strlist operands, none;
	struct message_opts o;
};

/* The first reading: opened and, unless only_header, read to its end. */
static char *first_reading(struct first *f, bool ignore_dots, bool only_header)
{
	memset(f, 0, sizeof *f);
	strlist_add(&f->operands, "root");
	f->o = (struct message_opts){ .ignore_dots = ignore_dots, .login = "root",
				      .domain = "example.net", .operands = &f->operands,
				      .to = &f->none, .cc = &f->none, .bcc = &f->none,
				      .attach = &f->none, .headers = &f->none,
				      .cancel = &never_cancelled, .input_buffer = 16 };
	f->fd = open(path, O_RDONLY);
	f->in = infile_open(f->fd, &never_cancelled);
	struct diag d = {0};
	if (!f->in || message_open_stream(&f->m, &f->o, infile_read, f->in, &d) != EX_OK)
		return xstrdup("[open failed]");
	infile_set_body(f->in, message_unused_input(f->m));
	bool failed;
	return only_header ? xstrdup("") : drain(f->m, 7, &failed);
}

static void first_free(struct first *f)
{
	message_free(f->m);
	infile_free(f->in);
	close(f->fd);
	strlist_free(&f->operands);
}

/* A second reading; *note gets its line. */
static char *again(struct first *f, bool whole, bool strict, char *note, size_t notesz,
		   bool *failed)
{
	struct infile_pass *p = infile_pass_new(f->in, whole, strict);
	struct message *a = message_again(f->m, infile_pass_read, p);
	char *out = drain(a, 65536, failed);
	message_free(a);
	infile_pass_end(p, note, notesz);
	return out;
}

static void test_again(void)
{
	static const char msg[] = "Subject: s\nX-A: b\n\nline one\r\nline two\n..dot\nno end";
	char note[256];
	bool failed;
	struct first f;

	put_file(msg, false);
	char *one = first_reading(&f, false, false);
	ok(f.in != NULL, "a regular file qualifies");
	char *two = again(&f, true, false, note, sizeof note, &failed);
	is_str(two, one, "read again: the bytes of the first reading");
	is_str(note, "", "and no note");
	ok(!failed, "nor a failure");
	free(two);

	put_file("appended\n", true);
	two = again(&f, true, false, note, sizeof note, &failed);
	is_str(two, one, "grown after it was read: still what was read");
	ok(strstr(note, "changed size") != NULL, "with a note: %s", note);
	free(two);
	two = again(&f, true, true, note, sizeof note, &failed);
	ok(!failed, "a strict reading does not fail on growth alone");
	free(two);

	patch_file(19, "LINE");
	two = again(&f, true, false, note, sizeof note, &failed);
	ok(strstr(two, "LINE one") && strstr(two, "appended"), "bytes it read changed: kept as "
	   "the file is now, to its end");
	ok(strstr(note, "changed after postie read it") != NULL, "with a note: %s", note);
	free(two);
	two = again(&f, true, true, note, sizeof note, &failed);
	ok(failed, "a strict reading fails instead");
	free(two);
	free(one);
	first_free(&f);

	/* the first reading stopped after the header: the rest is read now, as a drain would */
	put_file(msg, false);
	one = first_reading(&f, false, true);
	put_file("more\n", true);
	two = again(&f, false, false, note, sizeof note, &failed);
	char *rest = drain(f.m, 65536, &failed);
	is_str(two, rest, "a reading cut short: the rest read as the first reader reads it");
	ok(strstr(two, "more") != NULL, "to the end of the file as it is now");
	ok(strstr(note, "changed size") != NULL, "with a note of the size: %s", note);
	free(one);
	free(two);
	free(rest);
	first_free(&f);

	/* a lone dot ends the message: what follows is no part of it, read ahead or not */
	put_file("Subject: d\n\nbody\n.\nafter the dot\n", false);
	one = first_reading(&f, false, false);
	put_file("and more\n", true);
	two = again(&f, true, false, note, sizeof note, &failed);
	is_str(two, one, "a message ended by a lone dot: the same bytes");
	is_str(note, "", "and no note: the file goes on after the message");
	free(one);
	free(two);
	first_free(&f);

	/* -i: the dot is data */
	put_file("Subject: d\n\nbody\n.\nafter the dot\n", false);
	one = first_reading(&f, true, false);
	two = again(&f, true, false, note, sizeof note, &failed);
	is_str(two, one, "-i: the same bytes, the dot line included");
	ok(strstr(two, "after the dot") != NULL, "to the end");
	free(one);
	free(two);
	first_free(&f);

	/* the header changed: noticed too */
	put_file(msg, false);
	one = first_reading(&f, false, false);
	patch_file(0, "subject");
	two = again(&f, true, false, note, sizeof note, &failed);
	is_str(two, one, "a change in the header: the header is the one read");
	ok(strstr(note, "changed after postie read it") != NULL, "and a note: %s", note);
	free(one);
	free(two);
	first_free(&f);
}

static void test_qualifies(void)
{
	int p[2];
	ok(pipe(p) == 0, "a pipe");
	ok(infile_open(p[0], NULL) == NULL, "a pipe does not qualify");
	close(p[0]);
	close(p[1]);
	put_file("", false);
	int fd = open(path, O_RDONLY);
	ok(infile_open(fd, NULL) == NULL, "an empty file does not qualify");
	close(fd);
	put_file("x\n", false);
	fd = open(path, O_RDONLY);
	ok(lseek(fd, 2, SEEK_SET) == 2, "seeked to its end");
	ok(infile_open(fd, NULL) == NULL, "a file read to its end does not qualify");
	close(fd);
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	test_fingerprint();
	test_again();
	test_qualifies();
	unlink(path);
	return done_testing();
}
