/*
 * je_patch.c -- a build tool: points the branches with which one function
 * of a relocatable x86-64 object enters another at a third function of the
 * same section instead.
 *
 *   je_patch OBJECT FUNCTION FROM TO
 *
 * cmake/jemalloc.cmake uses it on the private jemalloc: its malloc serves
 * from the thread cache inline and otherwise jumps to its slow path,
 * je_malloc_default.  The assembler resolved that jump (both are in the
 * same section of jemalloc.pic.o), so no relocation is left that a rename
 * or the linker could redirect.  After `ld -r` has put src/je_miss.S into
 * that section, this tool rewrites the displacement of every branch of
 * FUNCTION to FROM so that it reaches TO, and so the slow path passes
 * through the library first (override.c's vmm_je_malloc_miss).
 *
 * It refuses -- exit status 1 and a message, the object untouched -- unless
 * it patches at least one branch, every one is a near jmp or jcc (rel32)
 * with no relocation on its bytes, and no short branch reaches FROM: so a
 * jemalloc built differently fails the build instead of bypassing us.
 */
#define _POSIX_C_SOURCE 200809L
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *image;
static size_t image_size;

static __attribute__((noreturn)) void fail(const char *what, const char *arg)
{
	fprintf(stderr, "je_patch: %s%s%s\n", what, arg ? ": " : "",
		arg ? arg : "");
	exit(1);
}

static void *at(size_t off, size_t len)
{
	if (off > image_size || len > image_size - off)
		fail("truncated object", NULL);
	return image + off;
}

static const Elf64_Shdr *section(const Elf64_Ehdr *eh, size_t i)
{
	if (i >= eh->e_shnum)
		fail("bad section index", NULL);
	return at(eh->e_shoff + i * sizeof(Elf64_Shdr), sizeof(Elf64_Shdr));
}

static const Elf64_Sym *symbol(const Elf64_Ehdr *eh, const char *name)
{
	for (size_t i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = section(eh, i);
		if (sh->sh_type != SHT_SYMTAB)
			continue;
		const Elf64_Shdr *str = section(eh, sh->sh_link);
		const Elf64_Sym *syms = at(sh->sh_offset, sh->sh_size);
		for (size_t k = 0; k < sh->sh_size / sizeof(Elf64_Sym); k++) {
			const Elf64_Sym *s = &syms[k];
			if (s->st_name >= str->sh_size ||
			    s->st_shndx == SHN_UNDEF ||
			    s->st_shndx >= SHN_LORESERVE)
				continue;
			const char *n = at(str->sh_offset + s->st_name, 1);
			size_t room = str->sh_size - s->st_name;
			if (strnlen(n, room) < room && strcmp(n, name) == 0)
				return s;
		}
	}
	fail("symbol not defined", name);
}

/* true if a relocation of section shndx touches [off, off + len) */
static int relocated(const Elf64_Ehdr *eh, size_t shndx, uint64_t off,
		     uint64_t len)
{
	for (size_t i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = section(eh, i);
		if ((sh->sh_type != SHT_RELA && sh->sh_type != SHT_REL) ||
		    sh->sh_info != shndx || sh->sh_entsize == 0)
			continue;
		for (size_t k = 0; k < sh->sh_size / sh->sh_entsize; k++) {
			const Elf64_Rel *r =
				at(sh->sh_offset + k * sh->sh_entsize,
				   sizeof(Elf64_Rel));
			/* every x86-64 relocation writes at most 8 bytes */
			if (r->r_offset < off + len && r->r_offset + 8 > off)
				return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		fail("usage: je_patch OBJECT FUNCTION FROM TO", NULL);
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL)
		fail(strerror(errno), argv[1]);
	if (fseek(f, 0, SEEK_END) != 0)
		fail("cannot seek", argv[1]);
	long len = ftell(f);
	if (len <= 0 || fseek(f, 0, SEEK_SET) != 0)
		fail("cannot size", argv[1]);
	image_size = (size_t)len;
	image = malloc(image_size);
	if (image == NULL || fread(image, 1, image_size, f) != image_size)
		fail("cannot read", argv[1]);
	fclose(f);

	const Elf64_Ehdr *eh = at(0, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_REL ||
	    eh->e_machine != EM_X86_64)
		fail("not a relocatable x86-64 object", argv[1]);
	const Elf64_Sym *fn = symbol(eh, argv[2]);
	const Elf64_Sym *from = symbol(eh, argv[3]);
	const Elf64_Sym *to = symbol(eh, argv[4]);
	if (fn->st_shndx != from->st_shndx || fn->st_shndx != to->st_shndx)
		fail("the three symbols are not in one section", NULL);
	const Elf64_Shdr *text = section(eh, fn->st_shndx);
	if (fn->st_size == 0 || fn->st_value + fn->st_size > text->sh_size)
		fail("function has no size in its section", argv[2]);
	unsigned char *code = at(text->sh_offset + fn->st_value, fn->st_size);
	int64_t base = (int64_t)fn->st_value;
	int64_t target = (int64_t)from->st_value;
	int64_t dest = (int64_t)to->st_value;

	unsigned patched = 0;
	for (size_t i = 0; i < fn->st_size; i++) {
		size_t op = 0; /* opcode bytes of a rel32 branch at i */
		if (code[i] == 0xe9)
			op = 1;
		else if (code[i] == 0x0f && i + 1 < fn->st_size &&
			 (code[i + 1] & 0xf0) == 0x80)
			op = 2;
		else if ((code[i] == 0xeb || (code[i] & 0xf0) == 0x70) &&
			 i + 2 <= fn->st_size) {
			int8_t d8 = (int8_t)code[i + 1];
			if (base + (int64_t)i + 2 + d8 == target)
				fail("a short branch reaches", argv[3]);
			continue;
		}
		if (op == 0 || i + op + 4 > fn->st_size)
			continue;
		int32_t d;
		memcpy(&d, code + i + op, 4);
		int64_t end = base + (int64_t)(i + op + 4);
		if (end + d != target)
			continue;
		if (relocated(eh, fn->st_shndx, fn->st_value + i + op, 4))
			fail("a branch to patch carries a relocation", argv[3]);
		int64_t nd = dest - end;
		if (nd < INT32_MIN || nd > INT32_MAX)
			fail("the new target is out of reach", argv[4]);
		d = (int32_t)nd;
		memcpy(code + i + op, &d, 4);
		patched++;
		i += op + 3;
	}
	if (patched == 0)
		fail("no rel32 branch to patch reaches", argv[3]);

	f = fopen(argv[1], "r+b");
	if (f == NULL || fwrite(image, 1, image_size, f) != image_size ||
	    fclose(f) != 0)
		fail("cannot write", argv[1]);
	printf("je_patch: %u branch%s of %s to %s now reach %s\n", patched,
	       patched == 1 ? "" : "es", argv[2], argv[3], argv[4]);
	return 0;
}
