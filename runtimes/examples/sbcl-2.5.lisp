;;; SBCL 2.5 (Common Lisp): CLOS generic functions, the LOOP macro, multiple values,
;;; and conditions handled with handler-case.
(defclass circle () ((r :initarg :r :reader r)))
(defclass rect () ((w :initarg :w :reader w) (h :initarg :h :reader h)))

(defgeneric area (shape))
(defmethod area ((c circle)) (* pi (r c) (r c)))
(defmethod area ((s rect)) (* (w s) (h s)))

(dolist (shape (list (make-instance 'circle :r 1) (make-instance 'rect :w 2 :h 3)))
  (format t "~(~a~) area=~,2f~%" (class-name (class-of shape)) (area shape)))

(format t "squares of odds: ~{~a~^,~}~%"
        (loop for n from 1 to 9 when (oddp n) collect (* n n)))

(multiple-value-bind (quotient remainder) (floor 17 5)
  (format t "17 = 5*~a + ~a~%" quotient remainder))

(format t "caught: ~a~%"
        (handler-case (/ 1 0)
          (division-by-zero () "division by zero")))
(format t "~a ~a~%" (lisp-implementation-type)
        (subseq (lisp-implementation-version) 0 3))
