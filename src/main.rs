//! The entry point: no libc, so no crt0 either. The kernel starts us at
//! `_start` with argc, argv and envp on the stack (the System V x86-64 ABI,
//! section 3.4.1); we hand them to the library and exit with its answer.
#![no_std]
#![no_main]

use tinyrun::sys::{self, CStrs};

core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",  // the outermost frame, for debuggers
    "mov rdi, rsp",  // rdi = &argc
    "and rsp, -16",  // the ABI's alignment before a call
    "call {main}",
    "ud2",
    main = sym start,
);

/// Reads argc, argv and envp off the initial stack.
unsafe extern "C" fn start(sp: *const usize) -> ! {
    // Safety: the kernel put argc, then argv[argc] and NULL, then envp and
    // NULL at `sp`, all valid for the life of the process.
    let (args, environ) = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as sys::CVec;
        sys::remember_strings(argv);
        (CStrs::new(argv.add(1)), CStrs::new(argv.add(argc + 1)))
    };
    sys::exit(tinyrun::main(args, environ) as i32)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::exit(125)
}

// What the compiler expects from a libc: the memory functions and strlen
// (for CStr; a plain Rust
// loop could be turned back into a call to itself by the optimiser, so they
// are `rep` string instructions) and, for debug builds of core, the
// unwinding personality, which panic = "abort" never calls.
core::arch::global_asm!(
    ".globl memcpy",
    "memcpy:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "rep movsb",
    "ret",
    ".globl memmove",
    "memmove:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "cmp rdi, rsi",
    "jbe 2f",
    "lea rsi, [rsi + rdx - 1]",
    "lea rdi, [rdi + rdx - 1]",
    "std",
    "rep movsb",
    "cld",
    "ret",
    "2: rep movsb",
    "ret",
    ".globl memset",
    "memset:",
    "mov r8, rdi",
    "mov eax, esi",
    "mov rcx, rdx",
    "rep stosb",
    "mov rax, r8",
    "ret",
    ".globl memcmp",
    ".globl bcmp",
    "memcmp:",
    "bcmp:",
    "xor eax, eax",
    "test rdx, rdx",
    "jz 3f",
    "4: movzx eax, byte ptr [rdi]",
    "movzx ecx, byte ptr [rsi]",
    "sub eax, ecx",
    "jnz 3f",
    "inc rdi",
    "inc rsi",
    "dec rdx",
    "jnz 4b",
    "3: ret",
    ".globl strlen",
    "strlen:",
    "mov rax, rdi",
    "5: cmp byte ptr [rax], 0",
    "je 6f",
    "inc rax",
    "jmp 5b",
    "6: sub rax, rdi",
    "ret",
    ".globl rust_eh_personality",
    "rust_eh_personality:",
    "ud2",
);
